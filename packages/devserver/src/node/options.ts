/**
 * createNode options. Every default is written once, here, with its reason.
 */
import type { IncomingMessage, Server } from 'node:http'
import { DEFAULT_LIMITS, type Hello } from '@lifeline/protocol'
import type { Store } from '../store/types.js'
import type { RateLimit } from './rate-limit.js'

/** What `onMessage` gets for one `send`. Its publishes commit in the same atomic apply as the send's seq. */
export interface MessageContext {
  session: { id: string }
  /** The node handling the send. */
  node: string
  /** Append `data` to `topic` when the send commits. Topics starting with `@` are refused (throws). */
  publish(topic: string, data: unknown): void
  /** Append `data` to the sender's own `@inbox` when the send commits. */
  reply(data: unknown): void
}

/**
 * Handle a client's `send`. Effects through `ctx` are exactly-once: they commit with the send's seq in one
 * store apply, and a resent duplicate is acknowledged without running the handler again. Side effects
 * outside the store (HTTP calls, other databases) are at-least-once: if the node dies after the handler ran
 * but before the apply, the client resends and the handler runs again; make them idempotent.
 * Throwing refuses the send: its seq is consumed, nothing it published is applied, and the client's send()
 * rejects with HANDLER_FAILED carrying the thrown message (the connection stays open; later sends go on).
 */
export type MessageHandler = (ctx: MessageContext, data: unknown) => void | Promise<void>

/** Accept with `true`/`undefined`; refuse with `false` or a string (the reason), or by throwing. */
export type AuthorizeHook = (hello: Hello, request: IncomingMessage) => boolean | string | void | Promise<boolean | string | void>

export interface NodeOptions {
  /** Node id, shown in `welcome.node`, /healthz and logs. Default `node-<random>`. */
  id?: string
  /** The shared store. Default a new MemoryStore (a single node on its own). */
  store?: Store
  /**
   * HMAC secret for session tokens; every node of a cluster must share it. Default random per node, so tokens
   * only resume on this node: fine alone, wrong for a cluster (the supervisor passes one).
   */
  secret?: string
  /** An existing HTTP server to attach to (an app embedding the node). Default: one is created and listens. */
  server?: Server
  /** Only upgrades on this path are the node's (an app with other WebSocket endpoints). Default: every path. */
  path?: string
  /** When the node creates its server: port (0 = any free one) and host. Defaults 0 and 127.0.0.1 (not exposed by accident). */
  port?: number
  host?: string
  /** Server ping interval. Default 2,000 ms (DESIGN): a frozen node or dead link is noticed within seconds. */
  heartbeatMs?: number
  /** Close a client silent this long with 4408. Default 5,000 ms (DESIGN): two missed pings and a margin. */
  timeoutMs?: number
  /** Session retention after its last touch. Default 120,000 ms (DESIGN): a reload or a short outage resumes. */
  sessionTtlMs?: number
  /** drain() closes every client and resolves within this. Default 5,000 ms: acks in flight take milliseconds; a deploy should not wait on a stuck client. */
  drainTimeoutMs?: number
  /** Largest frame accepted; larger closes with 1009. Told to clients in `welcome`. Default: DEFAULT_LIMITS in @lifeline/protocol (1 MiB), with its reason. */
  maxFrameBytes?: number
  /**
   * Per-connection frame rate. Default 1,000/s sustained, bursts of 2,000: an SDK resending a full outbox on
   * resume passes; a flooding socket is closed (4429) within about two seconds.
   */
  rateLimit?: RateLimit
  /** Close a client whose unsent output passes this many bytes (a slow consumer). Default 8 MiB: several seconds of a busy topic, bounded per socket. */
  maxBufferedBytes?: number
  /** Topics one connection may subscribe to, besides `@inbox`. Told to clients in `welcome`. Default: DEFAULT_LIMITS in @lifeline/protocol (1,000). */
  maxSubscriptions?: number
  /**
   * Longest an `onMessage` call may take; past it the send is refused with HANDLER_FAILED (its seq consumed) and
   * the connection goes on. Default 10,000 ms: a backend round trip with a retry fits, while a handler that never
   * settles (a forgotten await on a promise that never resolves) no longer stalls its session for good.
   */
  handlerTimeoutMs?: number
  /** Refuse a hello (close 4401 with the reason). Default: accept everyone. */
  authorize?: AuthorizeHook
  /** Handle `send`. Default: echo the data to the sender's own inbox. */
  onMessage?: MessageHandler
  /** Log lines (one event each). Default: none. */
  log?: (line: string) => void
}

export const NODE_DEFAULTS = {
  heartbeatMs: 2_000,
  timeoutMs: 5_000,
  sessionTtlMs: 120_000,
  drainTimeoutMs: 5_000,
  maxFrameBytes: DEFAULT_LIMITS.maxFrameBytes,
  rateLimit: { perSecond: 1_000, burst: 2_000 } as RateLimit,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxSubscriptions: DEFAULT_LIMITS.maxSubscriptions,
  handlerTimeoutMs: 10_000,
  port: 0,
  host: '127.0.0.1',
}

export const echoToInbox: MessageHandler = (ctx, data) => ctx.reply(data)
