/**
 * Every error code of the devserver's HTTP and cluster side, with what it means and the HTTP status it is
 * answered with: `ClusterError.code` (startCluster and the Cluster methods), the CLI's `lifeline: CODE: …` lines,
 * and `{ error: { code, message } }` in the error answers of the balancer's port (admin API, refused upgrades) and
 * of the request guard every server of this package has (http/guard.ts).
 * A code never changes meaning; new ones are only added.
 *
 * Not the protocol's codes (packages/protocol/src/codes.ts): those are what a Lifeline client sees on its
 * WebSocket; these are what a developer, a script or an HTTP client of the cluster sees. A name is in both lists
 * only when it means the same thing in both (SHARED_WITH_PROTOCOL below: the HTTP API refuses a publish for the
 * same reasons, in the same words, as a client's): test/errors.test.ts checks that no other name is, so a code
 * means one thing wherever it is read.
 */
export const ERROR_STATUS = {
  // --- the supervisor: ClusterError from startCluster and the Cluster methods; the admin API answers with the same ---
  /** 404. No node has this id (it was never started, or was removed). */
  NODE_NOT_FOUND: 404,
  /** 409. The operation needs a live process and this node's has exited (use restart to start it again). */
  NODE_NOT_RUNNING: 409,
  /** 500. The node process exited or failed to spawn before it said it was listening; the message has its output. */
  NODE_START_FAILED: 500,
  /** 504. The node process did not say it was listening within `startTimeoutMs`. */
  NODE_START_TIMEOUT: 504,
  /** 503. The cluster was stopped; start a new one. */
  CLUSTER_STOPPED: 503,
  /** 400. An option, flag (CLI) or query parameter (admin API) has a value we cannot use; the message names it and what is allowed. */
  BAD_OPTION: 400,

  // --- the admin API (/_lifeline/api/…, and the dashboard page) ---
  /** 405. The route exists but not with this HTTP method; the message names the methods it has. */
  METHOD_NOT_ALLOWED: 405,
  /**
   * 403. Not allowed for who is asking: the admin API from a non-loopback address without adminRemote. (Shared:
   * on a client's WebSocket, a call its token's `topics` do not allow.)
   */
  FORBIDDEN: 403,
  /** 403. `Host` is not a loopback name or the cluster's host: a DNS-rebinding page, or a name the cluster was not started with. */
  HOST_NOT_ALLOWED: 403,
  /** 403. A state-changing request whose `Origin` is another site (a page the developer has open, forging a POST). */
  CROSS_ORIGIN: 403,
  /** 404. The session has no live connection through this balancer. */
  SESSION_NOT_FOUND: 404,

  // --- the balancer's port: plain requests, and the WebSocket upgrades it proxies ---
  /** 404. Nothing is served at this path (the admin API's message lists its routes). */
  NOT_FOUND: 404,
  /** 503. An upgrade found no routable node (every node down, draining or refusing); the client retries with backoff. */
  NO_NODE: 503,

  // --- every HTTP server this package creates (the balancer's, a node's own): http/guard.ts ---
  /** 400. The request could not be read (target, Host, a percent-escape, not HTTP at all); 431 or 408 when the head was too big or too slow. */
  BAD_REQUEST: 400,
  /** 500. Something failed on our side; the message says what, and it is logged. */
  INTERNAL: 500,

  // --- the HTTP API for apps' backends (/_lifeline/v1/…, on every node's port): src/api/ ---
  /** 403. The node has no API key configured (--api-key, LIFELINE_API_KEYS, apiKeys), so its API is off. */
  API_DISABLED: 403,
  /** 401. No `Authorization: Bearer <key>`, or a key the node does not have. (Shared: a client's token refused.) */
  UNAUTHORIZED: 401,
  /** 413. The request body (a publish's data) is over the node's maxFrameBytes, as a client's frame would be. (Shared.) */
  MESSAGE_TOO_BIG: 413,
  /** 400. The data nests deeper than MAX_DATA_DEPTH (64) levels, as a client's would be refused. (Shared.) */
  DATA_TOO_DEEP: 400,
  /** 400. The topic starts with `@`: those are the server's own (an inbox, presence), for no one to publish to. (Shared.) */
  RESERVED_TOPIC: 400,
  /**
   * 503. The store did not answer: nothing was applied, or, if it was after all, a retry with the same
   * idempotencyKey returns that first result. Safe to retry with the same key. (Shared.)
   */
  STORE_UNAVAILABLE: 503,
  /** 409. This idempotencyKey was used within its retention for a publish of other data or to another topic. */
  IDEMPOTENCY_CONFLICT: 409,
} as const satisfies Record<string, number>

/**
 * Codes in both this table and the protocol's (ErrorCode), each meaning the same thing for an HTTP caller as for
 * a client on its WebSocket. Only these may be in both (test/errors.test.ts).
 */
export const SHARED_WITH_PROTOCOL = ['FORBIDDEN', 'UNAUTHORIZED', 'MESSAGE_TOO_BIG', 'DATA_TOO_DEEP', 'RESERVED_TOPIC', 'STORE_UNAVAILABLE'] as const

export type ClusterErrorCode = keyof typeof ERROR_STATUS

/**
 * Each code as a value (`ClusterErrorCode.NODE_NOT_FOUND === 'NODE_NOT_FOUND'`), with its meaning on hover: the
 * mapped type spells out `keyof typeof ERROR_STATUS` rather than the alias, because only that form carries the docs.
 */
export const ClusterErrorCode = Object.freeze(
  Object.fromEntries(Object.keys(ERROR_STATUS).map((code) => [code, code])),
) as { readonly [C in keyof typeof ERROR_STATUS]: C }

/** Thrown by startCluster and the Cluster methods; `code` says what went wrong, `message` what to do instead. */
export class ClusterError extends Error {
  override readonly name = 'ClusterError'
  constructor(
    readonly code: ClusterErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/** The JSON body of an error answer: the one shape every HTTP server of this package sends. */
export function errorBody(code: ClusterErrorCode, message: string): { error: { code: ClusterErrorCode; message: string } } {
  return { error: { code, message } }
}
