/**
 * The embedded store: everything in one process's memory. The supervisor holds one and serves it to its
 * node processes over IPC (ipc-host.ts); a single embedded node can use it directly.
 *
 * Every method runs its whole body synchronously before its promise resolves, so `apply` is atomic for free:
 * no other call can interleave between the generation check, the seq check, the appends and `acked = seq`.
 */
import { randomBytes } from 'node:crypto'
import { inboxTopic } from './inbox.js'
import { retentionWith } from './retention.js'
import { TopicLog } from './topic-log.js'
import type { ApplyOp, ApplyResult, LiveListener, Retention, SessionRecord, Store, StoredMessage, TopicHead } from './types.js'

export interface MemoryStoreOptions {
  /** Topic log retention; see DEFAULT_RETENTION for the defaults and their reasons. */
  retention?: Partial<Retention>
  /** Clock, injectable for tests. Default Date.now. */
  now?: () => number
  /**
   * How often expired sessions are swept from memory. Default 30 s: expiry itself is checked on every access,
   * the sweep only bounds memory held by sessions nobody comes back for.
   */
  sweepMs?: number
}

export class MemoryStore implements Store {
  private readonly retention: Retention
  private readonly now: () => number
  /**
   * One epoch for every log of this store: they all live and die with it. Per store rather than per log, so a
   * topic nobody has written yet needs no log object to answer head() (idle sessions' inboxes cost nothing).
   */
  readonly epoch = randomBytes(9).toString('base64url')
  private readonly topics = new Map<string, TopicLog>()
  private readonly sessions = new Map<string, SessionRecord>()
  private readonly listeners = new Map<string, Set<LiveListener>>()
  private readonly sweep: NodeJS.Timeout

  constructor(options: MemoryStoreOptions = {}) {
    this.retention = retentionWith(options.retention)
    this.now = options.now ?? Date.now
    this.sweep = setInterval(() => this.sweepSessions(), options.sweepMs ?? 30_000)
    this.sweep.unref()
  }

  async createSession(id: string, ttlMs: number): Promise<SessionRecord> {
    const record: SessionRecord = { id, acked: 0, generation: 1, expiresAt: this.now() + ttlMs }
    this.sessions.set(id, record)
    return { ...record }
  }

  async claimSession(id: string, ttlMs: number): Promise<SessionRecord | null> {
    const record = this.live(id)
    if (!record) return null
    record.generation += 1
    record.expiresAt = this.now() + ttlMs
    return { ...record }
  }

  async touchSession(id: string, generation: number, ttlMs: number): Promise<boolean> {
    const record = this.live(id)
    if (!record || record.generation !== generation) return false
    record.expiresAt = this.now() + ttlMs
    return true
  }

  async apply(op: ApplyOp): Promise<ApplyResult> {
    const record = this.live(op.session)
    if (!record) return { status: 'unknown-session' }
    // A different generation is a zombie writer: the session was claimed again since it was handed this one.
    if (op.generation !== record.generation) return { status: 'stale-generation' }
    if (op.seq <= record.acked) return { status: 'duplicate' }
    if (op.seq > record.acked + 1) return { status: 'seq-gap', acked: record.acked }
    const messages = op.appends.map((a) => this.log(a.topic).append(a.data, this.now()))
    record.acked = op.seq
    // Fan out only after the whole op is committed: a listener never sees half of an apply.
    for (const message of messages) this.publish(message)
    return { status: 'applied', messages }
  }

  async append(topic: string, data: unknown): Promise<StoredMessage> {
    const message = this.log(topic).append(data, this.now())
    this.publish(message)
    return message
  }

  async head(topic: string): Promise<TopicHead> {
    return this.topics.get(topic)?.head(this.now()) ?? { epoch: this.epoch, last: 0, first: 1 }
  }

  async read(topic: string, from: number, limit: number): Promise<StoredMessage[]> {
    return this.topics.get(topic)?.read(from, limit, this.now()) ?? []
  }

  subscribe(topic: string, listener: LiveListener): () => void {
    let set = this.listeners.get(topic)
    if (!set) this.listeners.set(topic, (set = new Set()))
    // Wrapped so the same function can subscribe twice and unsubscribe once each.
    const entry: LiveListener = (m) => listener(m)
    set.add(entry)
    return () => {
      set.delete(entry)
      if (set.size === 0 && this.listeners.get(topic) === set) this.listeners.delete(topic)
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweep)
    this.listeners.clear()
  }

  private log(topic: string): TopicLog {
    let log = this.topics.get(topic)
    // Created on the first append, then kept for the store's lifetime (a head is ~100 bytes): dropping an idle
    // one would restart its offsets within the same epoch and make clients' positions lie.
    if (!log) this.topics.set(topic, (log = new TopicLog(topic, this.epoch, this.retention)))
    return log
  }

  private live(id: string): SessionRecord | undefined {
    const record = this.sessions.get(id)
    // Expired records stay until the sweep, which also drops their inbox log.
    return record && record.expiresAt > this.now() ? record : undefined
  }

  private publish(message: StoredMessage): void {
    const set = this.listeners.get(message.topic)
    if (!set) return
    for (const listener of [...set]) {
      try {
        listener(message)
      } catch {
        // A listener's bug must not undo a committed write or starve the other listeners.
      }
    }
  }

  private sweepSessions(): void {
    const now = this.now()
    for (const [id, record] of this.sessions) {
      if (record.expiresAt > now) continue
      this.sessions.delete(id)
      // Nobody can read a gone session's inbox again (a resume gets a new session), so its log goes too.
      this.topics.delete(inboxTopic(id))
    }
    // Age retention is otherwise applied on access; an idle log must not keep its messages forever.
    for (const log of this.topics.values()) log.head(now)
  }
}
