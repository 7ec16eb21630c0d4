/**
 * One direction of an impaired link: a delay line. Items (frames, IPC messages) leave in the order they
 * entered, each at its arrival time: after the items before it crossed at the bandwidth, plus the latency ±
 * jitter, and never before the item ahead of it (so jitter delays, it never reorders). While blackholed
 * nothing leaves; what is held leaves when the line is reshaped or flushed, in order.
 *
 * Used only while a link is impaired: an unimpaired link has no line at all (its owner tests one field), so a
 * cluster without faults pays a branch and nothing else. One timer per line, for the item at its head. The clock
 * is injectable, so the tests drive it by hand.
 */

/** A link's shape in one direction; see ImpairOptions (options.ts) for what each means. */
export interface Shape {
  latencyMs: number
  jitterMs: number
  /** Infinity: unlimited. */
  bytesPerSec: number
  blackhole: boolean
}

export const OPEN: Shape = { latencyMs: 0, jitterMs: 0, bytesPerSec: Infinity, blackhole: false }

export interface LineClock {
  now(): number
  /** In [0, 1). */
  random(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(timer: unknown): void
}

export const REAL_CLOCK: LineClock = {
  now: () => Date.now(),
  random: Math.random,
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    // A held frame must not keep a process alive that is otherwise done (a node that closes, a test's store).
    t.unref()
    return t
  },
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
}

type Entry<T> = { item: T; bytes: number; due: number }

export class DelayLine<T> {
  private entries: Entry<T>[] = []
  private head = 0
  private held = 0
  private timer: unknown
  private timerAt = Infinity
  /** When the last scheduled item arrives: the next one arrives no sooner (order). */
  private lastDue = -Infinity
  /** When the bandwidth-limited wire is free for the next item's bytes. */
  private wireFree = -Infinity
  private delivering = false
  private closed = false

  constructor(
    private shape: Shape,
    private readonly deliver: (item: T) => void,
    /** Called after items left (a batch of them), for whoever waits for the line to empty. */
    private readonly onDelivered: () => void = () => {},
    private readonly clock: LineClock = REAL_CLOCK,
  ) {}

  /** Bytes held in the line (sent by one end, not yet arrived at the other). */
  get heldBytes(): number {
    return this.held
  }

  get length(): number {
    return this.entries.length - this.head
  }

  get blackholed(): boolean {
    return this.shape.blackhole
  }

  push(item: T, bytes: number): void {
    if (this.closed) return
    const now = this.clock.now()
    this.entries.push({ item, bytes, due: this.shape.blackhole ? Infinity : this.schedule(bytes, now) })
    this.held += bytes
    this.pump()
  }

  /**
   * A new shape from now on. Items still in the line are scheduled again as if sent now (the bytes a blackhole
   * held are retransmitted when it lifts), in order, under the new shape.
   */
  reshape(shape: Shape): void {
    if (this.closed) return
    this.shape = shape
    this.lastDue = this.wireFree = -Infinity
    const now = this.clock.now()
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i] as Entry<T>
      e.due = shape.blackhole ? Infinity : this.schedule(e.bytes, now)
    }
    this.cancelTimer()
    this.pump()
  }

  /** Everything held leaves now, in order (the link healed). */
  flush(): void {
    this.reshape(OPEN)
  }

  /** Drops what is held (the connection is gone for good). */
  close(): void {
    this.closed = true
    this.cancelTimer()
    this.entries = []
    this.head = 0
    this.held = 0
  }

  private schedule(bytes: number, now: number): number {
    const s = this.shape
    const start = Math.max(now, this.wireFree)
    this.wireFree = s.bytesPerSec === Infinity ? start : start + (bytes * 1000) / s.bytesPerSec
    const jitter = s.jitterMs > 0 ? (this.clock.random() * 2 - 1) * s.jitterMs : 0
    const arrival = this.wireFree + Math.max(0, s.latencyMs + jitter)
    this.lastDue = Math.max(arrival, this.lastDue)
    return this.lastDue
  }

  /** Delivers every item that is due, then sets the timer for the next. Re-entrant calls (a delivery that pushes) queue behind. */
  private pump(): void {
    if (this.delivering) return
    this.delivering = true
    let delivered = false
    try {
      const now = this.clock.now()
      while (this.head < this.entries.length) {
        const e = this.entries[this.head] as Entry<T>
        if (e.due > now) break
        this.entries[this.head++] = undefined as never
        this.held -= e.bytes
        delivered = true
        try {
          this.deliver(e.item)
        } catch {
          // One item's failure (a write to a socket that just closed) must not hold back the rest of the line.
        }
        if (this.closed) return
      }
      if (this.head === this.entries.length) {
        this.entries = []
        this.head = 0
      } else if (this.head > 1024 && this.head * 2 > this.entries.length) {
        this.entries = this.entries.slice(this.head)
        this.head = 0
      }
      const next = this.entries[this.head]
      if (next && next.due !== Infinity) this.arm(next.due, now)
    } finally {
      this.delivering = false
    }
    if (delivered) this.onDelivered()
  }

  private arm(due: number, now: number): void {
    if (this.timer !== undefined && this.timerAt <= due) return
    this.cancelTimer()
    this.timerAt = due
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined
      this.timerAt = Infinity
      this.pump()
    }, Math.max(1, Math.ceil(due - now)))
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return
    this.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = Infinity
  }
}

/** ImpairOptions (or a store's part) → the shape of one direction. */
export function shapeOf(o: { latencyMs?: number; jitterMs?: number; bandwidthBytesPerSec?: number; blackhole?: boolean }): Shape {
  return { latencyMs: o.latencyMs ?? 0, jitterMs: o.jitterMs ?? 0, bytesPerSec: o.bandwidthBytesPerSec ?? Infinity, blackhole: o.blackhole === true }
}
