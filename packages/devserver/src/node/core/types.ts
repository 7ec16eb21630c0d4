/**
 * The vocabulary between the node's pure connection core (connection.ts) and its adapter (../socket.ts): the
 * inputs the core accepts, the effects it asks for, and the store calls it makes. The core never touches a
 * socket, a timer, a clock or a store: the adapter does, in the order the effects come, and feeds the results
 * back as inputs. This is what lets the simulation drive the real server logic on a virtual clock.
 */
import type { Hello } from '@lifeline/protocol'
import type { ApplyOp, Claim, PresenceMode, SessionOwner, StoredMessage } from '../../store/types.js'
import type { Verified } from './identity.js'
import type { RateLimit } from './rate-limit.js'

/** What the core knows of its node, fixed for the connection's life. */
export interface CoreConfig {
  /** The node's id, sent in `welcome.node`. */
  node: string
  /** HMAC secret for session tokens. */
  secret: string
  heartbeatMs: number
  timeoutMs: number
  sessionTtlMs: number
  maxFrameBytes: number
  maxSubscriptions: number
  rateLimit: RateLimit
  /**
   * Whether the app has an authorize hook or a connect webhook: the core then asks for a verdict (`authorize`)
   * once the session is claimed or created, before the welcome.
   */
  authorize: boolean
  /**
   * Whether a hello must carry a token (JWT auth configured): the core asks the adapter to verify it (`verify`)
   * before it touches the store, and enforces what it allows. Absent: false, the cluster is open.
   */
  auth?: boolean
  /** Fresh ids: a new session's id and new generations (random in production, seeded in a simulation). */
  ids: { session(): string; generation(): number }
}

/** One Store method call, as data (the adapter calls it and answers with a `store` input of the same id). */
export type StoreCall =
  | { method: 'createSession'; args: [id: string, ttlMs: number, owner: SessionOwner] }
  | { method: 'claimSession'; args: [id: string, ttlMs: number, claim: Claim] }
  | { method: 'touchSession'; args: [id: string, generation: number, ttlMs: number] }
  | { method: 'apply'; args: [op: ApplyOp] }
  | { method: 'head'; args: [topic: string] }
  | { method: 'read'; args: [topic: string, from: number, limit: number] }
  | { method: 'updatePresence'; args: [session: string, user: string, topics: string[], mode: PresenceMode] }
  | { method: 'listPresence'; args: [topic: string] }

export type StoreReply = { ok: true; value: unknown } | { ok: false; error: string }

/**
 * A `send`'s handler ran: what it published (committed with the seq), or why it refused. `retry`: the handler
 * could not be reached (a send webhook that timed out, was unreachable or answered 5xx): nothing is committed or
 * acknowledged, the connection closes 4502 and the client's outbox sends it again.
 */
export type HandlerOutcome = { ok: true; appends: { topic: string; data: unknown }[] } | { ok: false; reason: string; retry?: boolean }

export type Input =
  /** One text frame from the client; `bytes` its size on the wire. */
  | { type: 'frame'; text: string; bytes: number }
  /** The node's timer: liveness, ping, session touch. */
  | { type: 'tick' }
  /** The node drains (a deploy): finish what was received, then close 1012. */
  | { type: 'drain' }
  /** The answer to the `store` effect with this id. */
  | ({ type: 'store'; id: number } & StoreReply)
  /** A message appended to a store topic this connection listens to. */
  | { type: 'live'; message: StoredMessage }
  /** Live delivery of this store topic may have missed messages no later one reveals: look at its head. */
  | { type: 'resync'; topic: string }
  /**
   * The authorize hook's or connect webhook's verdict: null accepts, a string is the reason shown to the client.
   * `retry`: the backend could not answer (timeout, 5xx): refused with a retryable code (4502), not for good.
   */
  | { type: 'authorized'; refusal: string | null; retry?: boolean }
  /** The answer to the last `verify` effect. */
  | { type: 'verified'; result: Verified }
  /** The app's backend disconnects this connection's user (HTTP API): close 4441. */
  | { type: 'disconnect' }
  /** The `send` handler for this seq finished. */
  | { type: 'handled'; seq: number; outcome: HandlerOutcome }
  /** The socket's output fell below the low water mark the core asked to hear about. */
  | { type: 'drained' }
  /** The socket is gone (closed by the peer, or destroyed). */
  | { type: 'socket-closed' }
  /** A newer connection on this node holds this connection's session: this one is stale (4409). */
  | { type: 'superseded' }

export type Effect =
  | { type: 'send'; text: string }
  /** End the connection: `final`, when set, is written before the close frame and ahead of queued output. */
  | { type: 'close'; code: number; reason: string; final?: string }
  | { type: 'store'; id: number; call: StoreCall }
  /** Start or stop live delivery of a store topic to this connection. */
  | { type: 'listen' | 'unlisten'; topic: string }
  /**
   * Run the app's authorize hook (with the upgrade request the adapter holds) and connect webhook for this
   * hello, whose session is now `session` (`resumed` or new); `user`/`claims` from its verified token.
   */
  | { type: 'authorize'; hello: Hello; session: string; resumed: boolean; user?: string; claims?: Record<string, unknown> }
  /** Verify this token (a hello's, or an `auth` refresh); answer with a `verified` input. */
  | { type: 'verify'; token: string }
  /** Run the app's `send` handler for this op; `inbox` is the sender's own store topic (ctx.reply). */
  | { type: 'handle'; seq: number; data: unknown; session: string; inbox: string; user?: string }
  /** This connection now serves `session`: an older connection of it on this node is stale. */
  | { type: 'own'; session: string }
  /** Tell the core (input `drained`) once the output has drained. */
  | { type: 'await-drain' }
  | { type: 'log'; line: string }

/** What every input comes with: the time, and how much output the socket has not sent yet. */
export interface Env {
  now: number
  buffered: number
}
