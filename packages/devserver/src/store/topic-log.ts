import type { Retention, StoredMessage, TopicHead } from './types.js'

/**
 * One topic's log in memory: dense offsets within one epoch, pruned by count and age.
 * Messages sit in an array whose front is consumed by an index (`start`) rather than shift(), so pruning is
 * O(1) per message; the array is compacted when more than half of it is dead.
 */
export class TopicLog {
  private messages: StoredMessage[] = []
  private start = 0
  private last = 0

  constructor(
    readonly topic: string,
    /** The store's epoch: a new store incarnation means a new epoch, so old positions get `gap`. */
    readonly epoch: string,
    private readonly retention: Retention,
  ) {}

  append(data: unknown, time: number): StoredMessage {
    this.last += 1
    const message: StoredMessage = { topic: this.topic, offset: this.last, epoch: this.epoch, data, time }
    this.messages.push(message)
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
    return this.messages.slice(index, index + Math.max(0, limit))
  }

  private first(): number {
    return this.last - (this.messages.length - this.start) + 1
  }

  private prune(now: number): void {
    const oldest = now - this.retention.maxAgeMs
    while (this.start < this.messages.length) {
      const live = this.messages.length - this.start
      const message = this.messages[this.start]!
      if (live <= this.retention.maxMessages && message.time > oldest) break
      this.start += 1
    }
    if (this.start > 1024 && this.start * 2 > this.messages.length) {
      this.messages = this.messages.slice(this.start)
      this.start = 0
    }
  }
}
