/**
 * Where the app stands in each topic: the last offset delivered, in which epoch. The only place that decides
 * whether a `msg` is delivered, dropped as a duplicate, or means the stream is out of step (resync). Pure data.
 */
import type { Gap, Position, Subscribed } from '@lifeline/protocol'

export type Verdict =
  /** offset === last + 1 in the current epoch: hand it to the app. */
  | 'deliver'
  /** offset ≤ last: already delivered (a replay overlapping what we had). */
  | 'duplicate'
  /** No position yet (a fresh subscription before its `subscribed`): it precedes our starting point. */
  | 'early'
  /** Skipped ahead, or another epoch, with no `gap` notice: delivering would break order; resync instead. */
  | 'resync'

/** A gap the app must hear about, with the topic it concerns. */
/** `epoch`: the log `from`..`to` are offsets of (the new one, for an 'epoch' gap). */
export type TopicGap = Gap & { topic: string; epoch: string }

export class Positions {
  readonly map = new Map<string, Position>()

  constructor(initial?: Record<string, Position>) {
    for (const [topic, p] of Object.entries(initial ?? {})) this.map.set(topic, { offset: p.offset, epoch: p.epoch })
  }

  check(topic: string, offset: number, epoch: string): Verdict {
    const p = this.map.get(topic)
    if (!p) return 'early'
    if (epoch !== p.epoch) return 'resync'
    if (offset <= p.offset) return 'duplicate'
    return offset === p.offset + 1 ? 'deliver' : 'resync'
  }

  /** Record a delivered offset (only ever last + 1, see check). */
  advance(topic: string, offset: number): void {
    const p = this.map.get(topic)
    if (p) p.offset = offset
  }

  /**
   * Apply a `subscribed` frame; returns the gap to report, if any. A fresh subscription starts at the head. A
   * resumed one keeps its position (the replay follows) unless the server reports a gap, in which case it
   * continues after the gap. An epoch change the server did not report is reported here, never skipped silently.
   */
  subscribed(f: Subscribed): TopicGap | undefined {
    const p = this.map.get(f.topic)
    let gap: Gap | undefined = f.gap
    let next: Position | undefined
    const head = { offset: f.offset, epoch: f.epoch }
    if (f.after !== undefined) {
      // A start without a position ('earliest', an offset): the server says where its replay begins, and any gap
      // before it concerns what the app asked for. Never step back over offsets delivered in this epoch.
      next = { offset: p?.epoch === f.epoch ? Math.max(p.offset, f.after) : f.after, epoch: f.epoch }
    } else if (gap) {
      next = { offset: Math.max(gap.to, gap.from - 1), epoch: f.epoch }
      // Retention only moves forward: never step back over offsets already delivered. (An 'epoch' gap may step
      // back: the server says the log was replaced and those offsets now name other messages.)
      if (gap.reason === 'retention' && p?.epoch === f.epoch) next.offset = Math.max(next.offset, p.offset)
    } else if (!p) next = head
    else if (p.epoch !== f.epoch) {
      gap = { reason: 'epoch', from: 1, to: f.offset }
      next = head
    }
    if (next) this.map.set(f.topic, next)
    // A gap against a position we no longer hold (the @inbox of a session that turned out to be gone: its position
    // was sent in hello, then dropped at the reset) concerns nothing the app was promised: start after it quietly.
    // (With `after`, there was no position to hold: the gap concerns where the app asked to start.)
    return gap && (p || f.after !== undefined) ? { topic: f.topic, reason: gap.reason, from: gap.from, to: gap.to, epoch: f.epoch } : undefined
  }

  /** The `subs` of a `hello`: each topic with its position, or null for "live from now". Serialised at once, so not copied. */
  subs(topics: Iterable<string>): Record<string, Position | null> {
    // No prototype: `__proto__` is a valid topic name, and on a plain object it would set the prototype instead.
    const out = Object.create(null) as Record<string, Position | null>
    for (const t of topics) out[t] = this.map.get(t) ?? null
    return out
  }

  delete(topic: string): void {
    this.map.delete(topic)
  }

  toJSON(): Record<string, Position> {
    return Object.fromEntries(this.map)
  }
}
