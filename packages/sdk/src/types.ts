/** Public types: options, events, and the seams (storage, timers, WebSocket) an app or a test may inject. */
import type { LifelineError } from './errors.js'
import type { Overflow } from './outbox.js'

/** 'connecting' until the first `welcome`; 'reconnecting' whenever a session that was open is being restored. */
export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closed'

export interface BackoffOptions {
  /** Ceiling of the first retry window, ms. Default 100. */
  minMs?: number
  /** Largest ceiling, ms. Default 10 000. */
  maxMs?: number
  /** Growth of the ceiling per failed attempt. Default 2. */
  factor?: number
  /** A connection must stay open this long, ms, before the attempt count resets. Default 5 000. */
  resetAfterMs?: number
  /** After a 1012 (drain), reconnect within a random delay up to this instead of backing off. Default 150. */
  restartSpreadMs?: number
}

export interface OutboxOptions {
  /** Most publishes/sends held until acknowledged. Default 1 000. */
  maxMessages?: number
  /** Most bytes (UTF-8 JSON of data + topic) held until acknowledged. Default 1 MiB. */
  maxBytes?: number
  /** What a full outbox does with a new call. Default 'reject'. */
  overflow?: Overflow
}

/** localStorage, sessionStorage, or `memoryStorage()`. */
export interface StorageLike {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

/** Anything with zod's `safeParse` (zod, zod/mini, or a hand-written validator). */
export interface SchemaLike<T> {
  safeParse(data: unknown): { success: true; data: T } | { success: false; error?: unknown }
}

/** Injectable timers (a fake clock in tests). Defaults to the global setTimeout/clearTimeout, read per call. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** A WebSocket constructor: the browser's, or `ws`'s on Node 20 (whose instances are not DOM-typed, hence object). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => object

export interface ClientOptions<T = unknown> {
  /** Server URL, or several: the next one is tried after a connection attempt fails. */
  url: string | string[]
  /** Default: the global WebSocket, read at each connect (so test interceptors installed later apply). */
  WebSocket?: WebSocketConstructor | undefined
  backoff?: BackoffOptions
  outbox?: OutboxOptions
  /** Storage for the session token, positions and outbox, so a reload resumes. Default: none. */
  persist?: StorageLike | undefined
  /** Storage key prefix. Default `lifeline:` + the first URL. */
  persistKey?: string
  /** Validates (and types) message data. */
  schema?: SchemaLike<T> | undefined
  /** Socket open + `welcome` must happen within this, ms, or the attempt counts as failed. Default 10 000. */
  connectTimeoutMs?: number
  timers?: Timers
  /** Clock, ms. Default Date.now. */
  now?: () => number
  /** Random source in [0, 1) for backoff jitter. Default Math.random. */
  random?: () => number
  /**
   * The user's JWT, for a server that requires one: a string, or a function the client calls at each connect
   * and again before the token's `exp` (the fresh one goes on the open connection, no reconnect). It travels
   * in the hello, never in the URL. Default: none.
   */
  token?: string | (() => string | Promise<string>) | undefined
}

/** `signal` on a call: an abort before the call took effect withdraws it, and its promise rejects ABORTED. */
export interface CallOptions {
  signal?: AbortSignal | undefined
}

/**
 * Where a new subscription starts (see README, `subscribe`). 'latest' (default): where this client stands (a
 * position restored from `persist`), else live from now. 'earliest': the oldest retained message. An offset:
 * that one first (an `epoch`, e.g. from `history()`, makes a replaced log an explicit epoch `gap`).
 */
export interface SubscribeOptions extends CallOptions {
  from?: 'latest' | 'earliest' | number
  /** The epoch `from` (an offset) is of. Without it, the offset is taken in whatever log the topic has now. */
  epoch?: string
  /** Also raise `presence` events for this topic (users joining and leaving it). Default false. */
  presence?: boolean
}

/** One user in a topic's presence, with how many of their sessions are subscribed to it. */
export interface PresenceUser {
  user: string
  sessions: number
}
/** A `presence` event: `user`'s first session joined `topic`, or their last one left it. */
export interface PresenceEvent {
  topic: string
  user: string
  joined: boolean
}

export interface HistoryOptions extends CallOptions {
  /** The first offset wanted, or 'earliest'. Default: the newest `limit` messages. */
  from?: 'earliest' | number
  /** At most this many messages. Default and maximum: the server's (100 and 1,000 on the devserver). */
  limit?: number
}

/** A topic's retained messages, from `history()`. */
export interface History<T = unknown> {
  /** The log the offsets are of. */
  epoch: string
  /** Oldest first. */
  messages: { offset: number; data: T }[]
  /** The topic's newest offset when it was read: more exist after the last message when it is larger. */
  last: number
  /** `from` was older than retention: offsets `from`..`to` are gone, and `messages` start after them. */
  gap?: { reason: 'retention'; from: number; to: number }
}

export interface Message<T = unknown> {
  topic: string
  offset: number
  epoch: string
  data: T
  /** The publisher's user id (its token's `sub`), set by the server; absent for server publishes and open servers. */
  from?: string
}
export interface StateChange {
  from: ClientState
  to: ClientState
}
export interface GapEvent {
  topic: string
  /** 'retention': offsets from..to fell out of the server's log. 'epoch': the log itself was replaced. */
  reason: 'retention' | 'epoch'
  from: number
  to: number
  /** The epoch (log) `from`..`to` are offsets of: for an 'epoch' gap, the new one, whose messages follow. */
  epoch: string
}
/** A publish (`topic` set) or send whose fate is unknown. */
export interface Unconfirmed {
  topic?: string
  data: unknown
}
export interface ResetEvent {
  /**
   * 'expired': the session is gone on the server (past its TTL, or the store lost it). 'taken': another client
   * resumed it from a copy of this client's persisted state (a duplicated tab), so this one must not write to it.
   */
  reason: 'expired' | 'taken'
  /**
   * Sends whose fate is unknown; their promises reject (SESSION_RESET, SESSION_TAKEN). After 'expired': those
   * written to a socket of the lost session (the rest go to the new one). After 'taken': every pending send,
   * because the other copy holds them too and may deliver them.
   */
  unconfirmed: Unconfirmed[]
}

export interface ClientEvents<T = unknown> {
  message: Message<T>
  state: StateChange
  gap: GapEvent
  reset: ResetEvent
  error: LifelineError
  presence: PresenceEvent
}
