/**
 * The Redis store's options (each default written once, with its reason), its error, and how its two
 * node-redis connections are made.
 */
import { createClient } from 'redis'
import { backoffCeiling, ErrorCode } from '@lifeline/protocol'
import type { Retention } from './types.js'

export interface RedisStoreOptions {
  /** Message retention per topic. Defaults: DEFAULT_RETENTION (retention.ts), shared with the memory store. */
  retention?: Partial<Retention>
  /** Prefix for every key and channel. Default `lifeline:`: lets one Redis serve other apps (or clusters) too. */
  prefix?: string
  /**
   * A command not answered within this long fails as STORE_UNAVAILABLE. Default 2,000 ms: well inside the
   * client's 5 s heartbeat timeout, so a hung Redis is reported before clients give up on the node.
   */
  commandTimeoutMs?: number
  /**
   * Reconnect delay cap; delays start at 50 ms and double (node-redis retries once at once). Default 1,000 ms:
   * nodes are few (not thousands of clients), so retrying every second costs Redis nothing and bounds how
   * long clients wait after Redis is back. The delay is the backoff ceiling itself, without jitter: jitter spreads
   * a herd, and a handful of nodes (two connections each) reconnecting together is not one.
   */
  reconnectMaxMs?: number
  /** `createRedisStore` gives up when Redis is not reachable within this long. Default 10,000 ms. */
  connectTimeoutMs?: number
  /**
   * A topic's keys expire after this long without reads or writes. Default 24 h: reclaims the inbox topics of
   * sessions long gone (their session TTL is minutes); a reader returning later gets an `epoch` gap.
   */
  topicIdleTtlMs?: number
  /**
   * How often this store ends the presence of expired sessions (appending their leave events). Default 30,000 ms,
   * as the memory store's session sweep: a session's TTL is minutes, so a leave that comes up to 30 s after the
   * session ended is still prompt, while the walk over every present topic runs seldom on every node.
   */
  presenceSweepMs?: number
}

export const REDIS_DEFAULTS: Omit<Resolved, 'retention'> = {
  prefix: 'lifeline:',
  commandTimeoutMs: 2_000,
  reconnectMaxMs: 1_000,
  connectTimeoutMs: 10_000,
  topicIdleTtlMs: 24 * 3600_000,
  presenceSweepMs: 30_000,
}

/** Thrown by every store call while Redis is unreachable or too slow; the node maps it to STORE_UNAVAILABLE. */
export class StoreUnavailableError extends Error {
  readonly code = ErrorCode.STORE_UNAVAILABLE
  constructor(cause: unknown) {
    super(`Redis store unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.name = 'StoreUnavailableError'
  }
}

export type Resolved = Required<Omit<RedisStoreOptions, 'retention'>> & { retention: Retention }

export function makeClient(url: string, o: Resolved, failFastOffline: boolean) {
  return createClient({
    url,
    // On for commands: one sent while Redis is down must fail now, not run later behind the client's back.
    disableOfflineQueue: failFastOffline,
    maintNotifications: 'disabled', // Redis Enterprise only; avoids a failing handshake step on OSS Redis.
    commandOptions: { timeout: o.commandTimeoutMs },
    socket: {
      connectTimeout: o.commandTimeoutMs,
      reconnectStrategy: (retries: number) => backoffCeiling(retries, { minMs: 50, maxMs: o.reconnectMaxMs, factor: 2 }),
    },
  })
}
export type Client = ReturnType<typeof makeClient>

