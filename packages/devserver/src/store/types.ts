/**
 * The store between nodes: topic logs, session records and live fan-out, behind one interface.
 * Implementations: `memory` (embedded default, held by the supervisor, reached by nodes over IPC) and `redis`
 * (for clusters that span machines). Both pass test/store-contract.ts.
 *
 * Why one `apply` for every client write: appending to topic logs and advancing the session's highest applied
 * `seq` must be one atomic step, or a crash between them would lose a message or apply it twice on resend.
 */

/** One message in a topic log. `offset` is dense within `epoch`: 1, 2, 3 … */
export interface StoredMessage {
  topic: string
  offset: number
  epoch: string
  data: unknown
  /** Epoch milliseconds when appended; age retention reads it. */
  time: number
}

/** Where a topic's log stands. An empty log has `last = 0`, `first = 1`. */
export interface TopicHead {
  epoch: string
  /** Offset of the newest message (0 when none was ever appended in this epoch). */
  last: number
  /** Offset of the oldest retained message (`last + 1` when the log is empty or fully expired). */
  first: number
}

export interface SessionRecord {
  id: string
  /** Highest client `seq` applied (0 before the first). */
  acked: number
  /** Bumped on every claim; writes carrying an older generation are refused (no zombie writes). */
  generation: number
  /** Epoch milliseconds after which the session is gone. */
  expiresAt: number
}

/** One client write: a `pub` (one append) or a `send` (the appends its handler made, possibly none). */
export interface ApplyOp {
  session: string
  generation: number
  seq: number
  appends: { topic: string; data: unknown }[]
}

export type ApplyResult =
  /** Applied: `messages` are the appended messages, in the order of `op.appends`. */
  | { status: 'applied'; messages: StoredMessage[] }
  /** `seq` ≤ the session's acked: already applied once; acknowledge and drop. */
  | { status: 'duplicate' }
  /** `seq` > acked + 1: the client skipped a seq. `acked` is the session's current value. */
  | { status: 'seq-gap'; acked: number }
  /** The session was claimed by a newer generation (another node): this writer is a zombie. */
  | { status: 'stale-generation' }
  /** The session does not exist or has expired. */
  | { status: 'unknown-session' }

/** Topic log retention. Defaults and their reasons: DEFAULT_RETENTION in retention.ts. */
export interface Retention {
  /** Messages kept per topic. */
  maxMessages: number
  /** Age after which messages are dropped; older positions get `gap`. */
  maxAgeMs: number
}

export type LiveListener = (message: StoredMessage) => void

export interface Store {
  /** Create a session with acked 0 and generation 1. */
  createSession(id: string, ttlMs: number): Promise<SessionRecord>
  /** Take over a session for a new connection: generation + 1, expiry refreshed. `null` if unknown or expired. */
  claimSession(id: string, ttlMs: number): Promise<SessionRecord | null>
  /** Keep a live session from expiring. False when the generation is stale or the session is gone. */
  touchSession(id: string, generation: number, ttlMs: number): Promise<boolean>
  /** The atomic write: generation check, seq check, appends, acked = seq. */
  apply(op: ApplyOp): Promise<ApplyResult>
  /** A server-originated append with no session (admin publish, app code). */
  append(topic: string, data: unknown): Promise<StoredMessage>
  head(topic: string): Promise<TopicHead>
  /** Messages with offset ≥ `from` in the current epoch, oldest first, at most `limit`. */
  read(topic: string, from: number, limit: number): Promise<StoredMessage[]>
  /**
   * Live fan-out: `listener` gets every message appended to `topic` from now on, by any node, in offset order.
   * Returns the unsubscribe function.
   */
  subscribe(topic: string, listener: LiveListener): () => void
  /** Calls `listener(up)` when the store's reachability changes (Redis down/up). Memory stores never call it. */
  onAvailability?(listener: (up: boolean) => void): () => void
  close(): Promise<void>
}
