/**
 * Close codes and error codes, grouped by lifecycle. Each one is defined here, once, with what it means and
 * what the client does about it. The SDK and the devserver both import these; docs link here.
 */

/** WebSocket close codes the protocol uses. 1xxx are RFC 6455; 4xxx are Lifeline's own. */
export const CloseCode = {
  /** Normal close: the client called `close()` or the server shut the session down on purpose. Do not retry. */
  NORMAL: 1000,
  /** The server hit an unexpected error. Retry with backoff. */
  INTERNAL_ERROR: 1011,
  /**
   * A frame exceeded the server's size limit (`welcome.maxFrameBytes`, default 1 MiB). The SDK never sends such a
   * frame (it refuses the call with MESSAGE_TOO_BIG); if a server still closes with 1009 (its limit is smaller
   * than announced), the SDK takes the limit to be below its largest unacknowledged frame, refuses that send
   * with MESSAGE_TOO_BIG at the next welcome instead of resending it, and reconnects with backoff: a 1009 never
   * loops.
   */
  TOO_BIG: 1009,
  /** RFC 6455 "try again later", used for a slow consumer: unsent output passed the server's bound. Reconnect with backoff; resume replays. */
  SLOW_CONSUMER: 1013,
  /** Service restart: the node is draining (deploy) or shutting down. Reconnect at once, without backoff. */
  SERVICE_RESTART: 1012,
  /** The frame was not valid JSON, not a known frame, or broke its schema. The `error` frame before it says which. */
  BAD_FRAME: 4400,
  /**
   * The connection was refused for who it is: no valid token where the server requires one (the reason says
   * which: missing, bad signature, wrong issuer, expired …), or the app's `authorize(hello)` hook or connect
   * webhook refused it. The close reason carries the message. Do not retry until something changes (reconnect()).
   */
  UNAUTHORIZED: 4401,
  /** The resume token was forged, malformed or signed by another cluster. The client must start a new session. */
  INVALID_TOKEN: 4403,
  /**
   * No frame arrived within the heartbeat timeout, or a frame arrived after it (the node was frozen with the
   * frame in its socket buffer: it is not handled, so a stale hello can never claim a session). Reconnect with backoff.
   */
  HEARTBEAT_TIMEOUT: 4408,
  /** The session was resumed on another connection (a newer generation); this socket is stale. Do not retry on it. */
  SESSION_MOVED: 4409,
  /** The protocol version in `hello.v` is not supported by this server. */
  UNSUPPORTED_VERSION: 4426,
  /** A client `seq` skipped ahead of the next expected one: the client's outbox and the server disagree. */
  SEQ_GAP: 4422,
  /** The connection sent frames faster than the per-connection rate limit allows. Reconnect with backoff. */
  RATE_LIMITED: 4429,
  /** The server's store is unreachable; the node gave up on this connection. Reconnect with backoff. */
  STORE_UNAVAILABLE: 4503,
  /**
   * The token's `exp` passed on an open connection (no fresh one came in an `auth` frame in time). The SDK gets a
   * new token (calls `token` again) and reconnects, resuming the same session.
   */
  TOKEN_EXPIRED: 4440,
  /**
   * The app's backend disconnected this user (POST /_lifeline/v1/disconnect). Like TOKEN_EXPIRED: the SDK gets a
   * new token before it tries again, so a backend that no longer issues one keeps the user out.
   */
  DISCONNECTED: 4441,
  /**
   * The app's backend (a connect or send webhook) did not answer in time, was unreachable, or answered 5xx.
   * Nothing was applied; reconnect with backoff and resume (an unacknowledged send is sent again, with the same
   * Idempotency-Key).
   */
  BACKEND_UNAVAILABLE: 4502,
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

/**
 * Stable error codes. Server-sent ones arrive in `error` frames; client-side ones (SDK) reject promises or
 * arrive as `error` events. A code never changes meaning; new ones are only added.
 */
export const ErrorCode = {
  // --- sent by the server in an `error` frame ---
  /** The frame was not valid JSON. */
  BAD_JSON: 'BAD_JSON',
  /** The frame was JSON but not a known frame type (`t`). */
  UNKNOWN_FRAME: 'UNKNOWN_FRAME',
  /** A known frame with a field of the wrong type or range; the message names the field. */
  BAD_FRAME: 'BAD_FRAME',
  /** The first frame on a connection was not `hello`, or `hello` came twice. */
  HELLO_EXPECTED: 'HELLO_EXPECTED',
  /** The frame exceeded the size limit. */
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE',
  /** A `seq` skipped ahead: the server expected `acked + 1`. */
  SEQ_GAP: 'SEQ_GAP',
  /** The resume token failed its signature check. */
  INVALID_TOKEN: 'INVALID_TOKEN',
  /**
   * The client is not who the server accepts: a missing, malformed, wrongly signed, wrongly issued or expired
   * token (the message says which), or the app's authorize hook or connect webhook refused it. On a hello the
   * connection closes 4401; on an `auth` refresh it stays open with its current token.
   */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /**
   * The token's `topics` claim does not allow this subscribe, publish or query on this topic. Only that call
   * is refused (a publish's seq is consumed); the connection stays open.
   */
  FORBIDDEN: 'FORBIDDEN',
  /** The token's `exp` passed; the connection closes 4440 and the SDK resumes with a new token. */
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  /**
   * The app's backend (webhook) did not answer in time, was unreachable, or answered 5xx: the hello or the send
   * is not applied, the connection closes 4502 and the client retries (a send keeps its seq, so the backend sees
   * the same Idempotency-Key again).
   */
  BACKEND_UNAVAILABLE: 'BACKEND_UNAVAILABLE',
  /** Too many frames per second on one connection. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** Topics starting with `@` are reserved (only `@inbox`, the session's own, is allowed). */
  RESERVED_TOPIC: 'RESERVED_TOPIC',
  /** `hello.v` is a version this server does not speak. */
  UNSUPPORTED_VERSION: 'UNSUPPORTED_VERSION',
  /**
   * The store did not answer in time. The op is not acknowledged: the client's outbox resends it, and its `seq`
   * makes it apply once even if the store did apply the first try after all.
   */
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  /**
   * The app's `onMessage` handler threw, or did not settle within the node's `handlerTimeoutMs`, or the send
   * webhook answered 4xx (or a 2xx body it could not apply): that `send` was refused (its seq consumed, nothing
   * it published applied).
   */
  HANDLER_FAILED: 'HANDLER_FAILED',
  /** A subscribe past the server's `maxSubscriptions` (told in `welcome`; `@inbox` does not count). */
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  /** Message data nests arrays/objects deeper than MAX_DATA_DEPTH: refused before anything was applied (its seq consumed). */
  DATA_TOO_DEEP: 'DATA_TOO_DEEP',

  // --- raised by the SDK ---
  /** `outbox.overflow: 'reject'`: the outbox is full, this call was refused and nothing else was dropped. */
  OUTBOX_FULL: 'OUTBOX_FULL',
  /** `outbox.overflow: 'drop-oldest'`: this message was the oldest unsent one and was dropped for a newer one. */
  OUTBOX_DROPPED: 'OUTBOX_DROPPED',
  /** The session expired on the server; this send had been transmitted, so whether it was applied is unknown. */
  SESSION_RESET: 'SESSION_RESET',
  /** `client.close()` was called with this operation still pending. */
  CLIENT_CLOSED: 'CLIENT_CLOSED',
  /** A frame from the server failed its schema; the client reconnects. */
  BAD_SERVER_FRAME: 'BAD_SERVER_FRAME',
  /** Message data failed the app's `schema`; the message is reported here and skipped, its offset consumed. */
  INVALID_DATA: 'INVALID_DATA',
  /** The server closed the connection with a code that means "do not retry" (e.g. 4401 unauthorized). */
  CONNECTION_REFUSED: 'CONNECTION_REFUSED',
  /** The data passed to publish/send cannot be encoded as JSON. */
  NOT_SERIALIZABLE: 'NOT_SERIALIZABLE',
  /** publish/send: the frame would exceed the server's `maxFrameBytes` (from `welcome`); it was never sent. */
  MESSAGE_TOO_BIG: 'MESSAGE_TOO_BIG',
  /**
   * `error` event, once per failed connection attempt (refused, unreachable, HTTP error on the upgrade, closed
   * before `welcome`): the error carries `url`, `cause`, `closeCode`, `status` (the HTTP status, when the platform
   * tells it) and `retryInMs`. The client keeps retrying with backoff.
   */
  CONNECT_FAILED: 'CONNECT_FAILED',
  /**
   * The session this client resumed was taken over by another client holding a copy of its persisted state
   * (a duplicated tab), or its newer claims were lost by the store. This client starts a new session; every send
   * it had pending rejects with this code and is listed in `reset` (the other copy may deliver it).
   */
  SESSION_TAKEN: 'SESSION_TAKEN',
  /**
   * The call's `signal` aborted before it took effect: a publish/send before it was written to a socket (it was
   * removed from the outbox and will never be sent), a subscribe before the server confirmed it (withdrawn), a
   * history() before its answer. A publish/send already written is not taken back: it settles as the server decides.
   */
  ABORTED: 'ABORTED',
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/**
 * Limits a server announces in `welcome`: what a client assumes until it has heard them, and the devserver's
 * defaults. 1 MiB frames: ample for JSON messages, bounded per socket. 1,000 topics per connection (besides
 * `@inbox`): more than any page needs, bounded replay work per hello.
 */
export const DEFAULT_LIMITS = { maxFrameBytes: 1024 * 1024, maxSubscriptions: 1_000 } as const

/**
 * Deepest nesting of arrays/objects allowed in message data. 64 is deeper than any real message and far below
 * the depth (~4,000 on Node 20) where JSON.stringify exhausts the stack, which a 12 KB value can reach.
 */
export const MAX_DATA_DEPTH = 64

/** Protocol version spoken by this package. `hello.v` carries it. */
export const PROTOCOL_VERSION = 1

/** The per-session private topic: `ctx.reply()` and the default `send` echo land here. */
export const INBOX_TOPIC = '@inbox'

/**
 * Topics starting with `@` belong to the server: a client reads its own `@inbox` (the server maps it to its
 * session) and writes none of them, so no client can forge a message into anyone's inbox. The one rule, used
 * by the SDK (refused at the call), the node and the app-facing publish APIs.
 */
export function isReservedTopic(topic: string): boolean {
  return topic.charCodeAt(0) === 64 // '@'
}
