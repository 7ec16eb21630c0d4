/**
 * The simulated store: what the nodes' Redis would hold (sessions, topic logs, live pub/sub), as plain data in
 * this process, with the faults a real one has: restart (down for a while, a new process), rollback to an older
 * snapshot (a restored dump, or a lagging replica promoted), hang (answers nothing, then everything at once),
 * retention trimming. It follows the Redis store's rules: an epoch belongs to the store process that made it
 * (store/redis-scripts.ts), and a claim is judged by the real rule (store/claim.ts `judgeClaim`).
 *
 * Calls are synchronous here; the node adapter (node.ts) puts the network and its latency around them.
 * `history` keeps every append ever applied, even the ones a rollback loses: it is the ground truth the
 * checker compares deliveries with.
 */
import { claimedState, judgeClaim } from '../../packages/devserver/src/store/claim.js'
import type { ApplyOp, ApplyResult, Claim, ClaimResult, SessionOwner, SessionRecord, StoredMessage, TopicHead } from '../../packages/devserver/src/store/types.js'

interface Log {
  epoch: string
  /** The store process that made this epoch. */
  run: number
  last: number
  /** Retained messages, oldest first; `first` = last - messages.length + 1. */
  messages: StoredMessage[]
}

interface Held extends SessionRecord {
  base: number
  instance: string | undefined
  attempt: number
}

interface State {
  logs: Map<string, Log>
  sessions: Map<string, Held>
}

export interface Applied {
  topic: string
  epoch: string
  offset: number
  data: unknown
  at: number
}

export type Listener = (m: StoredMessage) => void

/** The switches a mutant flips (mutants.ts): each re-introduces a known bug, in the simulation only. */
export interface StoreMutations {
  /** Claims ignore the one-writer rule. */
  anyClaim?: boolean
  /** A claim by the same client object ignores which attempt it comes from. */
  ignoreAttempt?: boolean
  /** A rollback keeps the epochs of the logs it restores. */
  keepEpochOnRollback?: boolean
  /** A batched apply (seq..through) acknowledges every seq but appends only its first op's message. */
  batchKeepsFirst?: boolean
}

export class SimStore {
  /** The current store process; a restart or a failover starts a new one. */
  run = 1
  up = true
  hung = false
  private state: State = { logs: new Map(), sessions: new Map() }
  private epochs = 0
  readonly history: Applied[] = []
  /** Inbox appends by `epoch/offset` (each log has an epoch of its own), for the checker's "whose inbox". */
  private readonly inboxes = new Map<string, Applied>()
  /** Successful claims, for the checker: who claimed, with which hello attempt. */
  readonly claims: { at: number; session: string; instance: string | undefined; attempt: number }[] = []
  private readonly subscribers = new Map<string, Set<Listener>>()
  mutations: StoreMutations = {}

  constructor(
    private readonly now: () => number,
    private readonly retention: { maxMessages: number },
  ) {}

  // ------------------------------------------------------------------ faults

  /** A copy of everything, as a dump would hold it. */
  snapshot(): State {
    const logs = new Map([...this.state.logs].map(([t, l]) => [t, { ...l, messages: [...l.messages] }]))
    const sessions = new Map([...this.state.sessions].map(([id, s]) => [id, { ...s }]))
    return { logs, sessions }
  }

  /** The process restarts (from its own data: nothing lost), or starts from `from` (a rollback). New run either way. */
  restart(from?: State): void {
    if (from) this.state = this.copy(from)
    if (!(from && this.mutations.keepEpochOnRollback)) this.run++
    else for (const log of this.state.logs.values()) log.run = this.run
  }

  trim(topic: string, keep: number): void {
    const log = this.state.logs.get(topic)
    if (log && log.messages.length > keep) log.messages.splice(0, log.messages.length - keep)
  }

  // ------------------------------------------------------------------ pub/sub

  subscribe(topic: string, listener: Listener): () => void {
    let set = this.subscribers.get(topic)
    if (!set) this.subscribers.set(topic, (set = new Set()))
    set.add(listener)
    return () => set.delete(listener)
  }

  // ------------------------------------------------------------------ the Store calls

  createSession(id: string, ttlMs: number, owner: SessionOwner): SessionRecord {
    const held: Held = { id, acked: 0, generation: owner.generation, expiresAt: this.now() + ttlMs, base: 0, instance: owner.instance, attempt: owner.attempt }
    this.state.sessions.set(id, held)
    return record(held)
  }

  claimSession(id: string, ttlMs: number, claim: Claim): ClaimResult {
    const held = this.live(id)
    if (!held) return { status: 'unknown' }
    let verdict = judgeClaim(held, claim)
    if (this.mutations.ignoreAttempt && verdict === 'stale') verdict = 'claimed'
    if (this.mutations.anyClaim) verdict = 'claimed'
    if (verdict !== 'claimed') return { status: verdict }
    Object.assign(held, claimedState(claim))
    held.expiresAt = this.now() + ttlMs
    this.claims.push({ at: this.now(), session: id, instance: claim.instance, attempt: claim.attempt })
    return { status: 'claimed', record: record(held) }
  }

  touchSession(id: string, generation: number, ttlMs: number): boolean {
    const held = this.live(id)
    if (!held || held.generation !== generation) return false
    held.expiresAt = this.now() + ttlMs
    return true
  }

  apply(op: ApplyOp): ApplyResult {
    const held = this.live(op.session)
    if (!held) return { status: 'unknown-session' }
    if (op.generation !== held.generation) return { status: 'stale-generation' }
    const through = op.through ?? op.seq
    if (through <= held.acked) return { status: 'duplicate' }
    if (op.seq !== held.acked + 1) return { status: 'seq-gap', acked: held.acked }
    const appends = this.mutations.batchKeepsFirst && op.through !== undefined ? op.appends.slice(0, 1) : op.appends
    const messages = appends.map((a) => this.appendOne(a.topic, a.data))
    held.acked = through
    for (const m of messages) this.publish(m)
    return { status: 'applied', messages }
  }

  append(topic: string, data: unknown): StoredMessage {
    const m = this.appendOne(topic, data)
    this.publish(m)
    return m
  }

  head(topic: string): TopicHead {
    const log = this.log(topic)
    return { epoch: log.epoch, last: log.last, first: log.last - log.messages.length + 1 }
  }

  read(topic: string, from: number, limit: number): StoredMessage[] {
    const log = this.state.logs.get(topic)
    // A log of another run is about to be replaced (as the Redis READ script says): nothing to read in it.
    if (!log || log.run !== this.run) return []
    const first = log.last - log.messages.length + 1
    const start = Math.max(0, from - first)
    return log.messages.slice(start, start + Math.max(0, limit))
  }

  /** The inbox append that has this epoch and offset. */
  inboxEntry(epoch: string, offset: number): Applied | undefined {
    return this.inboxes.get(`${epoch}/${offset}`)
  }

  // ------------------------------------------------------------------ inside

  /** The topic's log, with a new epoch if it has none or one made by another store process. */
  private log(topic: string): Log {
    let log = this.state.logs.get(topic)
    if (!log || log.run !== this.run) {
      log = { epoch: `e${++this.epochs}`, run: this.run, last: 0, messages: [] }
      this.state.logs.set(topic, log)
    }
    return log
  }

  private appendOne(topic: string, data: unknown): StoredMessage {
    const log = this.log(topic)
    const m: StoredMessage = { topic, offset: ++log.last, epoch: log.epoch, data, time: this.now() }
    log.messages.push(m)
    if (log.messages.length > this.retention.maxMessages) log.messages.shift()
    const applied = { topic, epoch: m.epoch, offset: m.offset, data, at: this.now() }
    this.history.push(applied)
    if (topic.startsWith('@inbox:')) this.inboxes.set(`${m.epoch}/${m.offset}`, applied)
    return m
  }

  private publish(m: StoredMessage): void {
    for (const l of [...(this.subscribers.get(m.topic) ?? [])]) l(m)
  }

  private live(id: string): Held | undefined {
    const held = this.state.sessions.get(id)
    return held && held.expiresAt > this.now() ? held : undefined
  }

  private copy(s: State): State {
    const logs = new Map([...s.logs].map(([t, l]) => [t, { ...l, messages: [...l.messages] }]))
    const sessions = new Map([...s.sessions].map(([id, h]) => [id, { ...h }]))
    return { logs, sessions }
  }
}

function record(h: Held): SessionRecord {
  return { id: h.id, acked: h.acked, generation: h.generation, expiresAt: h.expiresAt }
}
