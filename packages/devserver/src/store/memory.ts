/**
 * The embedded store: everything in one process's memory. The supervisor holds one and serves it to its
 * node processes over IPC (ipc-host.ts); a single embedded node can use it directly.
 *
 * Every method runs its whole body synchronously before its promise resolves, so `apply` is atomic for free:
 * no other call can interleave between the generation check, the seq check, the appends and `acked = seq`.
 *
 * Memory is bounded by retention (count, age and bytes per topic, bytes for the whole store), by the session
 * sweep, and by listeners being removed on unsubscribe; a topic's log head stays once written (see log()).
 */
import { randomBytes } from 'node:crypto'
import { inboxTopic } from './inbox.js'
import { retentionWith } from './retention.js'
import { RetainedTotal, TopicLog } from './topic-log.js'
import { claimedState, judgeClaim } from './claim.js'
import { OnceBook } from './once.js'
import { PresenceBook, presenceTopic, type PresenceChange } from './presence.js'
import type { ApplyOp, ApplyResult, Claim, ClaimResult, LiveListener, OnceResult, PresenceMode, PresenceUser, Retention, SessionOwner, SessionRecord, Store, StoredMessage, TopicHead } from './types.js'

/** A session as the store holds it: the record, and the client object that made its latest claim. */
type HeldSession = SessionRecord & { base: number; instance: string | undefined; attempt: number }

function publicRecord(r: HeldSession): SessionRecord {
  return { id: r.id, acked: r.acked, generation: r.generation, expiresAt: r.expiresAt }
}

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
  /** `apply` takes a batch (ApplyOp.through) as one op. */
  readonly appliesBatches: boolean = true
  private readonly retention: Retention
  private readonly now: () => number
  /**
   * One epoch for every log of this store: they all live and die with it. Per store rather than per log, so a
   * topic nobody has written yet needs no log object to answer head() (idle sessions' inboxes cost nothing).
   */
  readonly epoch = randomBytes(9).toString('base64url')
  private readonly topics = new Map<string, TopicLog>()
  private readonly total: RetainedTotal
  private readonly sessions = new Map<string, HeldSession>()
  private readonly listeners = new Map<string, Set<LiveListener>>()
  private readonly presence = new PresenceBook((session) => this.live(session) !== undefined)
  private readonly once = new OnceBook()
  /** node id → when its last touch expires. */
  private readonly nodeExpiry = new Map<string, number>()
  private readonly sweep: NodeJS.Timeout

  constructor(options: MemoryStoreOptions = {}) {
    this.retention = retentionWith(options.retention)
    this.total = new RetainedTotal(this.retention.maxTotalBytes)
    this.now = options.now ?? Date.now
    this.sweep = setInterval(() => this.sweepSessions(), options.sweepMs ?? 30_000)
    this.sweep.unref()
  }

  async createSession(id: string, ttlMs: number, owner: SessionOwner): Promise<SessionRecord> {
    const record: HeldSession = { id, acked: 0, generation: owner.generation, expiresAt: this.now() + ttlMs, base: 0, instance: owner.instance, attempt: owner.attempt }
    this.sessions.set(id, record)
    return publicRecord(record)
  }

  async claimSession(id: string, ttlMs: number, claim: Claim): Promise<ClaimResult> {
    const record = this.live(id)
    if (!record) return { status: 'unknown' }
    const verdict = judgeClaim(record, claim)
    if (verdict !== 'claimed') return { status: verdict }
    Object.assign(record, claimedState(claim))
    record.expiresAt = this.now() + ttlMs
    return { status: 'claimed', record: publicRecord(record) }
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
    const through = op.through ?? op.seq
    if (through <= record.acked) return { status: 'duplicate' }
    if (op.seq !== record.acked + 1) return { status: 'seq-gap', acked: record.acked }
    // Sizes first: JSON.stringify can throw (a cycle, a BigInt), and then nothing may have been appended.
    const sizes = op.appends.map((a) => sizeOf(a.data, a.bytes))
    const messages = op.appends.map((a, i) => this.appendTo(a.topic, a.data, sizes[i]!, op.from))
    record.acked = through
    // Fan out only after the whole op is committed: a listener never sees half of an apply.
    for (const message of messages) this.publish(message)
    return { status: 'applied', messages }
  }

  async append(topic: string, data: unknown, bytes?: number): Promise<StoredMessage> {
    const message = this.appendTo(topic, data, sizeOf(data, bytes))
    this.publish(message)
    return message
  }

  async appendOnce(topic: string, data: unknown, once: { key: string; fingerprint: string; ttlMs: number }): Promise<OnceResult> {
    const now = this.now()
    const first = this.once.get(once.key, now)
    if (first) return { ...first, repeated: true }
    // Synchronous from the check to the set (no await): a concurrent retry cannot slip in between.
    const message = this.appendTo(topic, data, sizeOf(data, undefined))
    this.publish(message)
    const result = { topic, offset: message.offset, epoch: message.epoch, fingerprint: once.fingerprint }
    this.once.set(once.key, result, now + once.ttlMs)
    return { ...result, repeated: false }
  }

  async updatePresence(session: string, user: string, topics: string[], mode: PresenceMode): Promise<void> {
    this.announce(this.presence.update(session, user, topics, mode))
  }

  async listPresence(topic: string): Promise<PresenceUser[]> {
    const left: PresenceChange[] = []
    const users = this.presence.list(topic, left)
    this.announce(left)
    return users
  }

  async touchNode(node: string, ttlMs: number): Promise<void> {
    this.nodeExpiry.set(node, this.now() + ttlMs)
  }

  async nodes(): Promise<string[]> {
    const now = this.now()
    for (const [node, expiresAt] of this.nodeExpiry) if (expiresAt <= now) this.nodeExpiry.delete(node)
    return [...this.nodeExpiry.keys()].sort()
  }

  /**
   * UTF-8 bytes of data JSON retained across all topics: an operational figure (the dashboard may show it).
   * At most `retention.maxTotalBytes` after every write; messages past their age count until the next access
   * or sweep drops them.
   */
  get retainedBytes(): number {
    return this.total.bytes
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

  /** Presence changes, appended to their topics' presence logs (and fanned out) after the change is made. */
  private announce(changes: PresenceChange[]): void {
    for (const c of changes) {
      const data = { user: c.user, joined: c.joined }
      this.publish(this.appendTo(presenceTopic(c.topic), data, sizeOf(data, undefined)))
    }
  }

  private appendTo(topic: string, data: unknown, bytes: number, from?: string): StoredMessage {
    const message = this.log(topic).append(data, bytes, this.now(), from)
    this.total.enforce()
    return message
  }

  private log(topic: string): TopicLog {
    let log = this.topics.get(topic)
    // Created on the first append, then kept for the store's lifetime (an emptied log costs a few hundred bytes
    // plus its name): dropping an idle one would restart its offsets within the same epoch and make clients'
    // positions lie.
    if (!log) this.topics.set(topic, (log = new TopicLog(topic, this.epoch, this.retention, this.total)))
    return log
  }

  private live(id: string): HeldSession | undefined {
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
      // Nobody can read a gone session's inbox again (a resume gets a new session), so its log goes too, and
      // its bytes leave the store's total.
      this.topics.get(inboxTopic(id))?.clear()
      this.topics.delete(inboxTopic(id))
    }
    // Presence of the sessions just dropped (or expired, not yet dropped) ends, with its leave events.
    this.announce(this.presence.sweep())
    this.once.sweep(now)
    // Age retention is otherwise applied on access; an idle log must not keep its messages forever.
    for (const log of this.topics.values()) log.head(now)
  }
}

/** UTF-8 bytes of data's JSON: the caller's figure when it is a byte count, else computed once here. */
function sizeOf(data: unknown, bytes: number | undefined): number {
  if (typeof bytes === 'number' && Number.isFinite(bytes) && bytes >= 0) return bytes
  return Buffer.byteLength(JSON.stringify(data) ?? '', 'utf8')
}
