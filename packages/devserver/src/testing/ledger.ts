/**
 * One ledger: what every reader should have got, what it got, and whether what it missed was announced. Every
 * harness counts with it (SDK and devserver tests, the e2e specs, the bench, the model in the SDK's chaos test),
 * and so can an app's own tests: `@lifeline/devserver/testing`, or `@lifeline/devserver/testing/ledger`
 * without Playwright. Pure: no sockets, no clock, no I/O. The order of the calls is its only notion of time.
 *
 * A message is a tag (stream, n): a stream is one publisher's messages to one topic, numbered 1, 2, 3 … A
 * receipt says which reader got which tag on which topic, at which epoch and offset. The inbox (`@inbox`) is one
 * topic per reader: receipts, gaps and `reads` on `@inbox` are filed under `inboxOf(reader)`, and a send to
 * a reader's own inbox is recorded as `sent(inboxOf(reader), tag)`.
 *
 * Each definition, once:
 * - expected: for a reader and a topic it reads, every message sent to that topic from when it started
 *   reading (`reads`): of each stream, every n above the highest one sent before, unless `from` says
 *   otherwise. A message whose send was rejected and that nobody ever saw applied is not expected: its sender
 *   was told, and there is nothing to deliver.
 * - received: expected messages the reader got, each once. unexpected: tags it got that it did not expect
 *   (sent before it started reading, never recorded as sent, or on another topic than their stream's).
 * - lost: expected, never received. A lost message is reported when a gap or reset the reader received
 *   covers it, and silent otherwise. The promise is silent = 0.
 *   - a gap with reason 'epoch' covers everything of its topic published before the new epoch began for that
 *     reader: each message sent before the gap reached it that nobody saw in the new epoch, and the new
 *     epoch's offsets from..to (gone as well);
 *   - a gap with reason 'retention' covers the offsets from..to of its epoch: the messages known (from any
 *     receipt or `logged` entry) to sit there. A message nobody received has no known offset, so only a
 *     harness that can read the log (`logged`) can show that a retention gap covers it;
 *   - a reset covers the sends it lists as unconfirmed, and every message of the reader's inbox sent before
 *     it: the old session's inbox is gone with the session.
 *   A gap's epoch, when the event does not carry one (the SDK's does not), is the epoch of the reader's next
 *   receipt on the topic for an 'epoch' gap, and its current one for a 'retention' gap.
 * - duplicated: a receipt of a tag the reader had already received in the same epoch. Received again in a
 *   later epoch is `redelivered`: the log was replaced (announced by an epoch gap) and the message applied to
 *   the new one as well, because its sender resent what the store had lost; reported, like a gap.
 * - out of order: within one reader, one topic and one epoch, a receipt (not a duplicate) whose offset is not
 *   above the previous receipt's offset, or whose n is below an earlier n of the same stream. A new epoch
 *   starts both comparisons afresh: it is a new log, announced to the reader by a gap, whose offsets restart
 *   at 1, so the first message of the new log is not "late" against the last one of the old.
 * - client → server: a publish or send whose promise resolved must be applied exactly once; one whose promise
 *   rejected may be applied at most once. Applied = seen in the topic's log: at a reader, or in a `logged`
 *   entry. Applied twice = at two offsets of one epoch (a log restored into a new epoch may legitimately hold
 *   it again). notApplied counts resolved ones never seen, on topics someone reads or logs.
 */
import { INBOX_TOPIC } from '@lifeline/protocol'

/** One message: the `n`-th message (1, 2, 3 …) of `stream`, one publisher's messages to one topic. */
export interface Tag {
  stream: string
  n: number
}

/** A message as one reader received it. Without an offset (a baseline with no log) order is judged by n alone. */
export interface Receipt extends Tag {
  reader: string
  topic: string
  /** Default '' (one epoch). */
  epoch?: string
  offset?: number
}

/** A reader's `gap` event. `epoch`: the epoch the gap is in; inferred from the reader's receipts when absent. */
export interface GapNotice {
  reader: string
  topic: string
  reason: 'retention' | 'epoch'
  from: number
  to: number
  epoch?: string
}

/** A reader's `reset` event: `unconfirmed` are the tags of the sends it lists (whose promises reject). */
export interface ResetNotice {
  reader: string
  unconfirmed: readonly Tag[]
}

/** A message seen in a topic's log by a harness that can read it (a model server, a store). */
export interface LogEntry extends Tag {
  topic: string
  epoch: string
  offset: number
}

/** Which counts: one reader's, one topic's (`@inbox`: every inbox, or the reader's own), or both. */
export interface Filter {
  reader?: string
  topic?: string
}

export interface Counts {
  /** Messages recorded as sent to the counted topics (with a reader: the topics it reads). */
  sent: number
  /** Receipts expected, summed over readers. */
  expected: number
  /** Expected receipts that happened, each once. */
  received: number
  lost: number
  /** Lost, and covered by a gap or reset the reader received. */
  reported: number
  /** Lost, and covered by nothing: the promise is that this is 0. */
  silent: number
  duplicated: number
  /** Received again in a later epoch (the log was replaced and the message applied to the new one): reported. */
  redelivered: number
  outOfOrder: number
  unexpected: number
  /** `gap` and `reset` events recorded: explicit loss, still a failure where a test expects none. */
  gaps: number
  resets: number
  /** Client → server: promises settled, resolved ones never applied, and ones applied twice. */
  resolved: number
  rejected: number
  notApplied: number
  appliedTwice: number
}

/** What a lost message was covered by (`null`: nothing, it was lost silently). */
export interface Miss extends Tag {
  reader: string
  topic: string
  by: 'gap' | 'reset' | null
}

/** The topic `reader`'s own inbox is filed under: one per reader, and not a name a client can subscribe to. */
export function inboxOf(reader: string): string {
  return `${INBOX_TOPIC}/${reader}`
}

/** The tag a message carries as its data (`{stream, n}`), or undefined for data that is not one. */
export function tagOf(data: unknown): Tag | undefined {
  const t = data as Partial<Tag> | null
  return typeof t === 'object' && t !== null && typeof t.stream === 'string' && Number.isInteger(t.n) && (t.n as number) > 0
    ? { stream: t.stream, n: t.n as number }
    : undefined
}

/** The part of a Lifeline client the ledger listens to: structural, so this module needs no SDK. */
export interface Followable {
  on(event: 'message', fn: (m: { topic: string; offset: number; epoch: string; data: unknown }) => void): unknown
  on(event: 'gap', fn: (g: { topic: string; reason: 'retention' | 'epoch'; from: number; to: number; epoch?: string }) => void): unknown
  on(event: 'reset', fn: (r: { unconfirmed: readonly { topic?: string; data: unknown }[] }) => void): unknown
}

interface Msg extends Tag {
  /** Step of its `sent`; undefined while only received or logged. */
  sentAt?: number
  outcome?: 'resolved' | 'rejected'
  /** Offsets it was seen at, by epoch (from receipts and log entries). */
  at: Map<string, number[]>
  /** Seen anywhere (a receipt without offset counts too). */
  seen: boolean
}

interface Stream {
  topic?: string
  highest: number
  msgs: Map<number, Msg>
}

interface Order {
  lastOffset?: number
  highestN: Map<string, number>
}

/** One reader on one topic. */
interface Reading {
  topic: string
  /** false: receipts or gaps on a topic it never said it reads; nothing is expected there. */
  reading: boolean
  /** First n expected of each stream; streams not listed start at 1. */
  from: Map<string, number>
  got: Map<string, Set<number>>
  /** The epoch each tag was first received in. */
  gotIn: Map<Msg, string>
  byEpoch: Map<string, Order>
  /** Epoch changes in receipt order, to place a gap in its epoch. */
  epochs: { at: number; epoch: string }[]
  gaps: (GapNotice & { at: number })[]
  duplicated: number
  redelivered: number
  outOfOrder: number
  /** `version` at which every expected message had been received (a receipt never undoes that). */
  completeAt: number
}

interface Reader {
  topics: Map<string, Reading>
  resets: { at: number; unconfirmed: Set<Msg> }[]
}

export class Ledger {
  private step = 0
  /** Bumped by whatever can add to what is expected (a send, a settlement, a log entry). */
  private version = 0
  private readonly streams = new Map<string, Stream>()
  private readonly readers = new Map<string, Reader>()
  /** Topics some harness logged entries of: a resolved send missing from them was not applied. */
  private readonly loggedTopics = new Set<string>()

  /**
   * `tag` was sent to `topic`. Record it before the publish/send call, so a message in flight counts as
   * expected. Recording a tag again does nothing; a stream sending to a second topic is a harness error.
   */
  sent(topic: string, tag: Tag): void {
    const s = this.stream(tag.stream)
    if (s.topic !== undefined && s.topic !== topic) {
      throw new Error(`ledger: stream '${tag.stream}' sends to '${s.topic}', not '${topic}': give each topic its own stream`)
    }
    s.topic = topic
    const m = this.msg(tag)
    if (m.sentAt !== undefined) return
    m.sentAt = ++this.step
    s.highest = Math.max(s.highest, tag.n)
    this.version++
  }

  /** The promise of the publish/send that carried `tag` settled. */
  settled(tag: Tag, outcome: 'resolved' | 'rejected'): void {
    this.msg(tag).outcome = outcome
    this.version++
  }

  /**
   * `reader` reads `topic` from now on (call it when it subscribes). `from`: the first n it should get of
   * some streams (default: above the highest n each had sent by now). A second call changes nothing.
   */
  reads(reader: string, topic: string, options: { from?: Record<string, number> } = {}): void {
    const r = this.reading(reader, topic)
    if (r.reading) return
    r.reading = true
    for (const [name, s] of this.streams) if (s.topic === r.topic) r.from.set(name, s.highest + 1)
    for (const [name, n] of Object.entries(options.from ?? {})) r.from.set(name, n)
    this.version++
  }

  received(receipt: Receipt): void {
    const at = ++this.step
    const r = this.reading(receipt.reader, receipt.topic)
    const epoch = receipt.epoch ?? ''
    const m = this.msg(receipt)
    if (!m.seen && m.outcome === 'rejected') this.version++ // a rejected send seen applied: now expected by all
    m.seen = true
    if (receipt.offset !== undefined) place(m, epoch, receipt.offset)
    const got = r.got.get(receipt.stream) ?? new Set<number>()
    r.got.set(receipt.stream, got)
    if (got.has(receipt.n)) {
      // Again in a later epoch: the log was replaced (the reader was told by an epoch gap) and the message was
      // applied to the new one too (its sender resent it after the store lost it). Reported, not duplicated.
      if (r.gotIn.get(m) !== epoch) r.redelivered++
      else r.duplicated++ // counted once, as a duplicate, and not also as out of order
      return
    }
    got.add(receipt.n)
    r.gotIn.set(m, epoch)
    if (r.epochs[r.epochs.length - 1]?.epoch !== epoch) r.epochs.push({ at, epoch })
    let order = r.byEpoch.get(epoch)
    if (!order) r.byEpoch.set(epoch, (order = { highestN: new Map() }))
    const highest = order.highestN.get(receipt.stream) ?? 0
    const behind = receipt.offset !== undefined && order.lastOffset !== undefined && receipt.offset <= order.lastOffset
    if (behind || receipt.n < highest) r.outOfOrder++
    if (receipt.offset !== undefined) order.lastOffset = receipt.offset
    order.highestN.set(receipt.stream, Math.max(highest, receipt.n))
  }

  gap(notice: GapNotice): void {
    this.reading(notice.reader, notice.topic).gaps.push({ ...notice, at: ++this.step })
  }

  reset(notice: ResetNotice): void {
    this.reader(notice.reader).resets.push({ at: ++this.step, unconfirmed: new Set(notice.unconfirmed.map((t) => this.msg(t))) })
  }

  /** `entry` is in its topic's log (for harnesses that can read the log: applied counts, retention gaps). */
  logged(entry: LogEntry): void {
    const m = this.msg(entry)
    m.seen = true
    place(m, entry.epoch, entry.offset)
    this.loggedTopics.add(entry.topic)
    this.version++
  }

  /**
   * Feeds `reader`'s events from a Lifeline client: messages, gaps, resets. `tag` maps a message's data to
   * its tag (default `tagOf`); data it maps to nothing is ignored. Call `reads` when the client subscribes.
   * Returns a function that stops listening, where the client's `on` returns one.
   */
  follow(reader: string, client: Followable, tag: (data: unknown, topic: string) => Tag | undefined = tagOf): () => void {
    const offs = [
      client.on('message', ({ topic, offset, epoch, data }) => {
        const t = tag(data, topic)
        if (t) this.received({ reader, topic, epoch, offset, ...t })
      }),
      client.on('gap', (g) => this.gap({ reader, topic: g.topic, reason: g.reason, from: g.from, to: g.to, ...(g.epoch ? { epoch: g.epoch } : {}) })),
      client.on('reset', ({ unconfirmed }) =>
        this.reset({ reader, unconfirmed: unconfirmed.flatMap((u) => tag(u.data, u.topic ?? INBOX_TOPIC) ?? []) }),
      ),
    ]
    return () => offs.forEach((off) => typeof off === 'function' && off())
  }

  /** Every reader (or the filtered ones) has received every message it expects, so far. */
  complete(filter: Filter = {}): boolean {
    for (const [name, reader] of this.readers) {
      if (filter.reader !== undefined && filter.reader !== name) continue
      for (const r of reader.topics.values()) {
        if (!r.reading || !topicMatches(r.topic, filter.topic) || r.completeAt === this.version) continue
        for (const m of this.expectedOf(r)) if (!r.got.get(m.stream)?.has(m.n)) return false
        r.completeAt = this.version
      }
    }
    return true
  }

  counts(filter: Filter = {}): Counts {
    const c = emptyCounts()
    for (const [name, reader] of this.readers) {
      if (filter.reader !== undefined && filter.reader !== name) continue
      for (const r of reader.topics.values()) {
        if (!topicMatches(r.topic, filter.topic)) continue
        c.duplicated += r.duplicated
        c.redelivered += r.redelivered
        c.outOfOrder += r.outOfOrder
        c.gaps += r.gaps.length
        const expected = new Set<Msg>()
        for (const m of this.expectedOf(r)) {
          expected.add(m)
          c.expected++
          if (r.got.get(m.stream)?.has(m.n)) c.received++
          else if (this.coverOf(name, r, m)) c.reported++
          else c.silent++
        }
        for (const [stream, ns] of r.got) for (const n of ns) if (!expected.has(this.msg({ stream, n }))) c.unexpected++
      }
      c.resets += reader.resets.length
    }
    c.lost = c.reported + c.silent
    for (const s of this.streams.values()) {
      if (s.topic === undefined || !this.sendCounted(s.topic, filter)) continue
      const topic = s.topic
      // Only where someone reads or logs the topic can a missing resolved send be told from an unseen one.
      const observed = this.loggedTopics.has(topic) || [...this.readers.values()].some((rd) => rd.topics.get(topic)?.reading)
      for (const m of s.msgs.values()) {
        if (m.sentAt !== undefined) c.sent++
        if (m.outcome === 'resolved') c.resolved++
        if (m.outcome === 'rejected') c.rejected++
        const applied = applications(m)
        if (m.outcome === 'resolved' && applied === 0 && observed) c.notApplied++
        if (applied > 1) c.appliedTwice++
      }
    }
    return c
  }

  /** Every lost message, with what covered it (`by: null`: lost silently). For a failing test's output. */
  misses(filter: Filter = {}): Miss[] {
    const out: Miss[] = []
    for (const [name, reader] of this.readers) {
      if (filter.reader !== undefined && filter.reader !== name) continue
      for (const r of reader.topics.values()) {
        if (!topicMatches(r.topic, filter.topic)) continue
        for (const m of this.expectedOf(r)) {
          if (!r.got.get(m.stream)?.has(m.n)) out.push({ reader: name, topic: r.topic, stream: m.stream, n: m.n, by: this.coverOf(name, r, m) })
        }
      }
    }
    return out
  }

  private *expectedOf(r: Reading): Generator<Msg> {
    if (!r.reading) return
    for (const [name, s] of this.streams) {
      if (s.topic !== r.topic) continue
      const from = r.from.get(name) ?? 1
      for (const m of s.msgs.values()) {
        if (m.sentAt === undefined || m.n < from) continue
        if (m.outcome === 'rejected' && !m.seen) continue // its sender was told; nothing to deliver
        yield m
      }
    }
  }

  private coverOf(reader: string, r: Reading, m: Msg): Miss['by'] {
    const sentAt = m.sentAt ?? 0
    for (const reset of this.reader(reader).resets) {
      if (reset.unconfirmed.has(m) || (r.topic === inboxOf(reader) && sentAt < reset.at)) return 'reset'
    }
    for (const g of r.gaps) {
      if (g.reason === 'epoch') {
        const epoch = g.epoch ?? r.epochs.find((e) => e.at > g.at)?.epoch
        const inNew = epoch === undefined ? undefined : m.at.get(epoch)
        if (sentAt < g.at && (inNew === undefined || inNew.length === 0)) return 'gap'
        if (inNew?.some((o) => o >= g.from && o <= g.to)) return 'gap'
      } else {
        const epoch = g.epoch ?? [...r.epochs].reverse().find((e) => e.at < g.at)?.epoch ?? r.epochs.find((e) => e.at > g.at)?.epoch
        const offsets = epoch === undefined ? [...m.at.values()].flat() : (m.at.get(epoch) ?? [])
        if (offsets.some((o) => o >= g.from && o <= g.to)) return 'gap'
      }
    }
    return null
  }

  /** Whether messages of `topic` count under `filter` (with a reader: only topics it reads). */
  private sendCounted(topic: string, filter: Filter): boolean {
    if (!topicMatches(topic, filter.topic)) return false
    if (filter.reader === undefined) return true
    return this.readers.get(filter.reader)?.topics.get(topic)?.reading === true
  }

  private stream(name: string): Stream {
    let s = this.streams.get(name)
    if (!s) this.streams.set(name, (s = { highest: 0, msgs: new Map() }))
    return s
  }

  private msg(tag: Tag): Msg {
    const s = this.stream(tag.stream)
    let m = s.msgs.get(tag.n)
    if (!m) s.msgs.set(tag.n, (m = { stream: tag.stream, n: tag.n, at: new Map(), seen: false }))
    return m
  }

  private reader(name: string): Reader {
    let r = this.readers.get(name)
    if (!r) this.readers.set(name, (r = { topics: new Map(), resets: [] }))
    return r
  }

  private reading(reader: string, topic: string): Reading {
    const name = topic === INBOX_TOPIC ? inboxOf(reader) : topic
    const topics = this.reader(reader).topics
    let r = topics.get(name)
    if (!r) {
      r = { topic: name, reading: false, from: new Map(), got: new Map(), gotIn: new Map(), byEpoch: new Map(), epochs: [], gaps: [], duplicated: 0, redelivered: 0, outOfOrder: 0, completeAt: -1 }
      topics.set(name, r)
    }
    return r
  }
}

function place(m: Msg, epoch: string, offset: number): void {
  const offsets = m.at.get(epoch)
  if (!offsets) m.at.set(epoch, [offset])
  else if (!offsets.includes(offset)) offsets.push(offset)
}

/** How many times `m` was applied: distinct offsets within its busiest epoch (1 if seen only without offsets). */
function applications(m: Msg): number {
  let most = 0
  for (const offsets of m.at.values()) most = Math.max(most, offsets.length)
  return most === 0 && m.seen ? 1 : most
}

function topicMatches(topic: string, wanted: string | undefined): boolean {
  if (wanted === undefined || wanted === topic) return true
  return wanted === INBOX_TOPIC && topic.startsWith(`${INBOX_TOPIC}/`)
}

export function emptyCounts(): Counts {
  return {
    sent: 0, expected: 0, received: 0, lost: 0, reported: 0, silent: 0, duplicated: 0, redelivered: 0, outOfOrder: 0, unexpected: 0,
    gaps: 0, resets: 0, resolved: 0, rejected: 0, notApplied: 0, appliedTwice: 0,
  }
}

/**
 * Adds counts up: ledgers kept apart (one per fleet process, one per run), or one reader's counts each. Every
 * field adds, so over per-reader counts `sent` counts a message once per reader that reads its topic.
 */
export function addCounts(...all: Counts[]): Counts {
  const total = emptyCounts()
  for (const c of all) for (const k of Object.keys(total) as (keyof Counts)[]) total[k] += c[k]
  return total
}

/** `sent=600 received=1800/1800 lost=0 silent=0 duplicated=0 …`, then `extra` as key=value. */
export function formatCounts(c: Counts, extra: Record<string, string | number> = {}): string {
  const parts = [
    `sent=${c.sent}`,
    `received=${c.received}/${c.expected}`,
    `lost=${c.lost}`,
    `silent=${c.silent}`,
    `duplicated=${c.duplicated}`,
    ...(c.redelivered > 0 ? [`redelivered=${c.redelivered}`] : []),
    `outOfOrder=${c.outOfOrder}`,
    `unexpected=${c.unexpected}`,
    `gaps=${c.gaps}`,
    `resets=${c.resets}`,
    `notApplied=${c.notApplied}`,
    `appliedTwice=${c.appliedTwice}`,
    ...Object.entries(extra).map(([k, v]) => `${k}=${v}`),
  ]
  return parts.join(' ')
}

/** One line for a test's log: `[kill] sent=600 received=1800/1800 lost=0 silent=0 …`. */
export function countsLine(label: string, c: Counts, extra: Record<string, string | number> = {}): string {
  return `[${label}] ${formatCounts(c, extra)}`
}

/**
 * The promise, as a list of what breaks it (empty when it holds): nothing lost silently, nothing duplicated,
 * nothing out of order, every resolved send applied once and none applied twice. Loss that a gap or reset
 * announced is allowed. Assert with any `expect`: `expect(silentViolations(c)).toEqual([])`.
 */
export function silentViolations(c: Counts): string[] {
  const v: string[] = []
  if (c.silent > 0) v.push(`silent=${c.silent}: lost with no gap or reset covering them`)
  if (c.duplicated > 0) v.push(`duplicated=${c.duplicated}: received again`)
  if (c.outOfOrder > 0) v.push(`outOfOrder=${c.outOfOrder}: offset not above the previous one, or n below an earlier n of its stream`)
  if (c.notApplied > 0) v.push(`notApplied=${c.notApplied}: promise resolved, never applied`)
  if (c.appliedTwice > 0) v.push(`appliedTwice=${c.appliedTwice}: applied at two offsets of one epoch`)
  return v
}

/**
 * Stricter, for a fault that must cost nothing: the promise, and nothing lost at all (announced or not), and
 * something counted (a test that counted nothing proves nothing).
 */
export function exactlyOnceViolations(c: Counts): string[] {
  const v = silentViolations(c)
  if (c.reported > 0) v.push(`reported=${c.reported}: lost, though announced by a gap or reset`)
  if (c.redelivered > 0) v.push(`redelivered=${c.redelivered}: received again in a new epoch`)
  if (c.expected === 0) v.push('expected=0: nothing was counted')
  return v
}
