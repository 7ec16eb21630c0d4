import type { Retention, StoredMessage, TopicHead } from './types.js'

/**
 * One topic's log in memory: dense offsets within one epoch, pruned by count, age and bytes, always from the
 * front (so `first` only moves forward and a reader behind it gets `gap`).
 * Messages sit in an array whose front is consumed by an index (`start`) rather than shift(), so pruning is
 * O(1) per message; a consumed slot is cleared at once, so a dropped message's data can be collected before
 * the array is compacted (when more than half of it is dead, or at once when the log empties).
 */
export class TopicLog {
  private messages: (StoredMessage | undefined)[] = []
  /** UTF-8 bytes of each message's data JSON, beside `messages` (not in StoredMessage, which goes on the wire). */
  private sizes: number[] = []
  private start = 0
  private last = 0
  /** Bytes of the retained messages. */
  private bytes = 0

  constructor(
    readonly topic: string,
    /** The store's epoch: a new store incarnation means a new epoch, so old positions get `gap`. */
    readonly epoch: string,
    private readonly retention: Retention,
    private readonly total: RetainedTotal,
  ) {}

  /** Appends and applies this topic's bounds; the store's total bound is the caller's (RetainedTotal.enforce). */
  append(data: unknown, bytes: number, time: number, from?: string): StoredMessage {
    this.last += 1
    const message: StoredMessage = { topic: this.topic, offset: this.last, epoch: this.epoch, data, time }
    if (from !== undefined) message.from = from
    this.messages.push(message)
    this.sizes.push(bytes)
    this.bytes += bytes
    this.total.added(this, this.last, bytes)
    this.prune(time)
    return message
  }

  head(now: number): TopicHead {
    this.prune(now)
    return { epoch: this.epoch, last: this.last, first: this.first() }
  }

  read(from: number, limit: number, now: number): StoredMessage[] {
    this.prune(now)
    const index = this.start + Math.max(0, from - this.first())
    // Slots from `start` on are never cleared, so the slice holds messages only.
    return this.messages.slice(index, index + Math.max(0, limit)) as StoredMessage[]
  }

  /** Whether `offset` is still retained (RetainedTotal skips entries a per-topic bound already dropped). */
  holds(offset: number): boolean {
    return offset >= this.first() && offset <= this.last
  }

  /** Drops every retained message up to `offset`, from the front: the store's total bound evicting. */
  dropThrough(offset: number): void {
    while (this.start < this.messages.length && this.first() <= offset) this.dropFirst()
    this.compact()
  }

  /** Drops every retained message (the store discards this log); offsets stay where they were. */
  clear(): void {
    this.dropThrough(this.last)
  }

  private first(): number {
    return this.last - (this.messages.length - this.start) + 1
  }

  private dropFirst(): void {
    const bytes = this.sizes[this.start]!
    this.messages[this.start] = undefined
    this.start += 1
    this.bytes -= bytes
    this.total.removed(bytes)
  }

  private prune(now: number): void {
    const { maxMessages, maxAgeMs, maxBytes } = this.retention
    const oldest = now - maxAgeMs
    while (this.start < this.messages.length) {
      const live = this.messages.length - this.start
      if (live <= maxMessages && this.bytes <= maxBytes && this.messages[this.start]!.time > oldest) break
      this.dropFirst()
    }
    this.compact()
  }

  private compact(): void {
    if (this.start === this.messages.length) {
      // Empty: an idle log costs its head only, not the slots of the messages it once held.
      this.messages = []
      this.sizes = []
      this.start = 0
    } else if (this.start > 1024 && this.start * 2 > this.messages.length) {
      this.messages = this.messages.slice(this.start)
      this.sizes = this.sizes.slice(this.start)
      this.start = 0
    }
  }
}

/**
 * The store-wide byte bound (`maxTotalBytes`), shared by every log of one store. It keeps every append of every
 * log in append order, as (log, offset) pairs, and evicts from the front: the globally oldest retained message
 * goes first. An entry whose message a per-topic bound already dropped is skipped when it reaches the front,
 * and the queue is compacted once such entries outnumber the live ones, so an append costs amortised O(1).
 * Pairs rather than messages, so an entry never keeps a dropped message's data reachable.
 */
export class RetainedTotal {
  private retainedBytes = 0
  private retained = 0
  private logs: TopicLog[] = []
  private offsets: number[] = []
  private start = 0

  constructor(private readonly maxTotalBytes: number) {}

  /** UTF-8 bytes of data JSON retained by every log together. */
  get bytes(): number {
    return this.retainedBytes
  }

  added(log: TopicLog, offset: number, bytes: number): void {
    this.logs.push(log)
    this.offsets.push(offset)
    this.retainedBytes += bytes
    this.retained += 1
  }

  removed(bytes: number): void {
    this.retainedBytes -= bytes
    this.retained -= 1
  }

  /** Evicts the globally oldest retained messages until the total fits. Call after each append. */
  enforce(): void {
    while (this.retainedBytes > this.maxTotalBytes && this.start < this.logs.length) {
      const log = this.logs[this.start]!
      const offset = this.offsets[this.start]!
      this.start += 1
      // A no-op for an entry a per-topic bound already dropped. Otherwise `offset` is that log's first: its
      // older messages were appended earlier, so their entries were ahead of this one and are gone.
      log.dropThrough(offset)
    }
    while (this.start < this.logs.length && !this.logs[this.start]!.holds(this.offsets[this.start]!)) this.start += 1
    this.compact()
  }

  private compact(): void {
    const entries = this.logs.length - this.start
    if (entries > 2 * this.retained + 1024) {
      // Mostly dropped entries stuck behind an old live one (a quiet topic ahead of a busy one): keep the live.
      const logs: TopicLog[] = []
      const offsets: number[] = []
      for (let i = this.start; i < this.logs.length; i++) {
        if (!this.logs[i]!.holds(this.offsets[i]!)) continue
        logs.push(this.logs[i]!)
        offsets.push(this.offsets[i]!)
      }
      this.logs = logs
      this.offsets = offsets
      this.start = 0
    } else if (this.start > 1024 && this.start * 2 > this.logs.length) {
      this.logs = this.logs.slice(this.start)
      this.offsets = this.offsets.slice(this.start)
      this.start = 0
    }
  }
}
