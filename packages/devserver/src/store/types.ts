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
  /** The publishing session's user (its token's `sub`), when it had one: `msg.from`. Absent for server appends. */
  from?: string
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
  /**
   * Replaced on every claim (a random number from the caller, see security/token.ts `newGeneration`); writes
   * carrying another generation are refused (no zombie writes), and the resume token names it.
   */
  generation: number
  /** Epoch milliseconds after which the session is gone. */
  expiresAt: number
}

/** Who is creating a session: the generation to give it, and the client object creating it (`hello.instance`, `hello.attempt`). */
export interface SessionOwner {
  generation: number
  instance: string | undefined
  attempt: number
}

/**
 * A resume. One session has one writer, so a claim succeeds only when the claimant provably knows every write
 * the session has applied; otherwise it is `taken` and the client starts a new session with a `reset`:
 * 1. the claimant is the client object that made the session's latest claim (`instance` equal, and defined) on
 *    a later connection attempt, presenting the current token or the one that latest claim presented (its
 *    welcome was lost), with `lastSeq` ≥ acked: every write since that claim is its own. A token of neither is
 *    from a history the store no longer has (it was rolled back past the claim that issued it). The same
 *    client on an earlier or equal attempt is `stale`: a
 *    hello that waited somewhere (a frozen node's buffer) while the client moved on; it claims nothing and its
 *    socket is closed. A session acked beyond the client's own `lastSeq` has writes this client never made (a
 *    store rolled back twice, to a newer snapshot after an older one, found by the simulation): taken;
 * 2. or it presents the current token (`presented` = the generation) and `lastSeq` ≥ the session's acked: a
 *    reload, or a copy of the persisted state that has missed nothing;
 * 3. anything else is a copy that missed writes (a duplicated tab resuming with an older token, or with the
 *    current one after the original wrote more): resolving its outbox against `acked` would take another
 *    client's writes for its own and lose its sends silently.
 */
export interface Claim {
  /** The generation the presented token names. */
  presented: number
  /** `hello.instance` of the claimant. */
  instance: string | undefined
  /** `hello.attempt` of the claimant (0 when absent). */
  attempt: number
  /** `hello.resume.lastSeq`: the highest seq the claimant has assigned in this session. */
  lastSeq: number
  /** The session's generation once claimed: a fresh random number from the caller. */
  next: number
}

export type ClaimResult =
  | { status: 'claimed'; record: SessionRecord }
  /** Refused by the rules above; the session is left as it was. */
  | { status: 'taken' }
  /** An older hello of the client holding the session (rule 1); nothing changes, the connection is stale. */
  | { status: 'stale' }
  /** No such session, or it has expired. */
  | { status: 'unknown' }

/** One client write: a `pub` (one append) or a `send` (the appends its handler made, possibly none). */
export interface ApplyOp {
  session: string
  generation: number
  seq: number
  /**
   * The last seq this op covers, when it is a batch: seqs `seq`..`through` were sent one after another and are
   * applied as one (the node joins queued pubs into one apply), their appends in order; acked becomes `through`.
   * Absent: `seq` alone. The seq rule, for one or many: `through` ≤ acked is a duplicate (nothing appended),
   * `seq` ≠ acked + 1 a seq-gap (a batch that overlaps what is applied included: nothing is half-applied).
   */
  through?: number
  /** The session's user, stamped on every appended message (`StoredMessage.from`). */
  from?: string
  appends: {
    topic: string
    data: unknown
    /** UTF-8 bytes of data's JSON, when the caller knows it; stores that bound by bytes compute it otherwise. */
    bytes?: number
  }[]
}

export type ApplyResult =
  /** Applied: `messages` are the appended messages, in the order of `op.appends`. */
  | { status: 'applied'; messages: StoredMessage[] }
  /** `through` (or `seq`) ≤ the session's acked: already applied once; acknowledge and drop. */
  | { status: 'duplicate' }
  /** `seq` ≠ acked + 1 (and not a duplicate): the client skipped a seq, or a batch overlaps what is applied. `acked` is the session's current value. */
  | { status: 'seq-gap'; acked: number }
  /** The session was claimed by a newer generation (another node): this writer is a zombie. */
  | { status: 'stale-generation' }
  /** The session does not exist or has expired. */
  | { status: 'unknown-session' }

/**
 * Topic log retention. Defaults and their reasons: DEFAULT_RETENTION in retention.ts. Whatever a bound drops
 * goes from the front of a log (`head().first` moves forward), so a position before it gets `gap`.
 */
export interface Retention {
  /** Messages kept per topic. */
  maxMessages: number
  /** Age after which messages are dropped; older positions get `gap`. */
  maxAgeMs: number
  /**
   * UTF-8 bytes of data JSON kept per topic. Memory store only: Redis ignores it (bound Redis with its own
   * `maxmemory`). A single message larger than this is delivered live but not retained.
   */
  maxBytes: number
  /**
   * UTF-8 bytes of data JSON kept by the whole store, across topics; past it the oldest retained messages of
   * any topic go first. Memory store only, like `maxBytes`.
   */
  maxTotalBytes: number
}

/** One user present in a topic, with how many of their sessions are (a user with two tabs open has two). */
export interface PresenceUser {
  user: string
  sessions: number
}

/**
 * How `updatePresence` changes a session's presence: `add` and `remove` the given topics; `set` makes them the
 * session's only ones (a hello: whatever the session was in before and is not asking for now, it leaves).
 */
export type PresenceMode = 'add' | 'remove' | 'set'

/** What `appendOnce` remembers of the first append under a key, and gives every retry back. */
export interface OnceResult {
  topic: string
  offset: number
  epoch: string
  /** The caller's fingerprint of the first request (topic and data), so a retry that differs can be told apart. */
  fingerprint: string
  /** True when this call found the key: nothing was appended now. */
  repeated: boolean
}

export type LiveListener = (message: StoredMessage) => void
/**
 * Called when live delivery may have missed messages that no later message will reveal: the store restarted,
 * lost what it had not yet published, and the topic's log is in a new epoch that may stay empty (a quiet topic,
 * an inbox). The subscriber looks at the head, and tells its reader about the new epoch. Stores that never
 * change an epoch while running (memory) never call it.
 */
export type Resync = () => void

export interface Store {
  /** Create a session with acked 0 and the owner's generation. */
  createSession(id: string, ttlMs: number, owner: SessionOwner): Promise<SessionRecord>
  /** Take over a session for a new connection (see Claim): generation = claim.next, expiry refreshed. */
  claimSession(id: string, ttlMs: number, claim: Claim): Promise<ClaimResult>
  /** Keep a live session from expiring. False when the generation is stale or the session is gone. */
  touchSession(id: string, generation: number, ttlMs: number): Promise<boolean>
  /** The atomic write: generation check, seq check, appends, acked = seq (or `through`, when it applies batches). */
  apply(op: ApplyOp): Promise<ApplyResult>
  /**
   * True when `apply` honours `ApplyOp.through` (a batch of seqs as one atomic op). A store without it is handed
   * one seq per apply (store/batch.ts): stores written before batches existed stay correct.
   */
  readonly appliesBatches?: boolean
  /**
   * A server-originated append with no session (admin publish, app code). `bytes`: UTF-8 bytes of data's JSON,
   * when the caller knows it; stores that bound by bytes compute it otherwise.
   */
  append(topic: string, data: unknown, bytes?: number): Promise<StoredMessage>
  head(topic: string): Promise<TopicHead>
  /** Messages with offset ≥ `from` in the current epoch, oldest first, at most `limit`. */
  read(topic: string, from: number, limit: number): Promise<StoredMessage[]>
  /**
   * Live fan-out: `listener` gets every message appended to `topic` from now on, by any node, in offset order.
   * Returns the unsubscribe function.
   */
  subscribe(topic: string, listener: LiveListener, resync?: Resync): () => void
  /**
   * `server.append` exactly once per `key`: the first call appends; every call with the same key within `ttlMs`
   * appends nothing and gets the first one's result back (`repeated`). The check and the append are one atomic
   * step, so concurrent retries on different nodes append once between them.
   */
  appendOnce(topic: string, data: unknown, once: { key: string; fingerprint: string; ttlMs: number }): Promise<OnceResult>
  /**
   * Presence (store/presence.ts): the session is present under `user` in the topics `mode` says. Whenever that
   * makes a user's first session join a topic, or its last one leave, the store appends `{ user, joined }` to the
   * topic's presence log (`presenceTopic(topic)`) in the same atomic step, so every node's listeners hear it.
   * A session's presence ends with the session: once it has expired it is no longer listed, and a sweep
   * appends its leaves.
   */
  updatePresence(session: string, user: string, topics: string[], mode: PresenceMode): Promise<void>
  /** The users present in `topic` (live sessions only), each with its session count, sorted by user. */
  listPresence(topic: string): Promise<PresenceUser[]>
  /** This node is alive for `ttlMs` more (nodes touch themselves a few times per TTL): `nodes()` lists it. */
  touchNode(node: string, ttlMs: number): Promise<void>
  /** The nodes whose last touch has not expired, sorted: who must answer a cluster-wide request (disconnect). */
  nodes(): Promise<string[]>
  /** Calls `listener(up)` when the store's reachability changes (Redis down/up). Memory stores never call it. */
  onAvailability?(listener: (up: boolean) => void): () => void
  close(): Promise<void>
}
