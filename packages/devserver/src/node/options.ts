/**
 * createNode options and their defaults: every default is written once, in NODE_DEFAULTS, with its reason, and
 * merged once, in resolveNodeOptions.
 */
import type { IncomingMessage, Server } from 'node:http'
import { DEFAULT_LIMITS, type Hello } from '@lifeline/protocol'
import type { Store } from '../store/types.js'
import type { AuthOptions } from '../security/jwt.js'
import type { RateLimit } from './core/rate-limit.js'
import type { WebhookOptions } from './webhooks.js'

/** What `onMessage` gets for one `send`. Its publishes commit in the same atomic apply as the send's seq. */
export interface MessageContext {
  /** `user`: the sender's token `sub`, when the node requires tokens (`auth`). */
  session: { id: string; user?: string }
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

/** createNode's options. Each default, and why it is what it is, is in NODE_DEFAULTS below. */
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
  /** When the node creates its server: port and host. */
  port?: number
  host?: string
  /** Server ping interval, ms. */
  heartbeatMs?: number
  /** Close a client silent this long with 4408, ms. */
  timeoutMs?: number
  /** Session retention after its last touch, ms. */
  sessionTtlMs?: number
  /** drain() closes every client and resolves within this, ms. */
  drainTimeoutMs?: number
  /** Largest frame accepted; larger closes with 1009. Told to clients in `welcome`. */
  maxFrameBytes?: number
  /** Per-connection frame rate. */
  rateLimit?: RateLimit
  /** Close a client whose unsent output passes this many bytes (a slow consumer, 1013). */
  maxBufferedBytes?: number
  /** Topics one connection may subscribe to, besides `@inbox`. Told to clients in `welcome`. */
  maxSubscriptions?: number
  /** Longest an `onMessage` call may take; past it the send is refused with HANDLER_FAILED (its seq consumed). */
  handlerTimeoutMs?: number
  /** Refuse a hello (close 4401 with the reason). Default: accept everyone. */
  authorize?: AuthorizeHook
  /** Handle `send`. Default: echo the data to the sender's own inbox. Not with `webhooks.send`, which replaces it. */
  onMessage?: MessageHandler
  /**
   * Require a JWT in every hello (`--jwt-secret`, `--jwt-public-key`): security/jwt.ts says what is checked.
   * Default: none, the node is open (any client may read and write any topic, and `msg.from` is never set).
   */
  auth?: AuthOptions
  /**
   * Keys the HTTP API (/_lifeline/v1/…) accepts as `Authorization: Bearer <key>` (`--api-key`, LIFELINE_API_KEYS).
   * Default: none, and the API answers 403 API_DISABLED: it publishes to any topic and disconnects any user.
   */
  apiKeys?: string[]
  /** Webhooks for a backend that is not Node (`--on-connect`, `--on-send`): node/webhooks.ts. Default: none. */
  webhooks?: WebhookOptions
  /** How long the HTTP API's publish remembers an idempotencyKey, ms. */
  idempotencyTtlMs?: number
  /** How long the HTTP API's disconnect waits for every node's count, ms. */
  disconnectTimeoutMs?: number
  /** Log lines (one event each). Default: none. */
  log?: (line: string) => void
}

/** Every default of createNode, written once, each with its reason. */
export const NODE_DEFAULTS = {
  /** a frozen node or a dead link is noticed within seconds, at one small frame per client per 2 s. */
  heartbeatMs: 2_000,
  /** two missed pings and a margin. */
  timeoutMs: 5_000,
  /** a reload or a short outage resumes; a longer absence is a `reset`, told honestly. */
  sessionTtlMs: 120_000,
  /** Acks in flight take milliseconds; a deploy should not wait on a stuck client. */
  drainTimeoutMs: 5_000,
  /** DEFAULT_LIMITS in @lifeline/protocol (1 MiB), which the SDK also assumes until it hears a welcome. */
  maxFrameBytes: DEFAULT_LIMITS.maxFrameBytes as number,
  /** An SDK resending a full outbox on resume (1,000 messages) passes; a flooding socket is closed (4429) within about two seconds. */
  rateLimit: { perSecond: 1_000, burst: 2_000 } as RateLimit,
  /** Several seconds of a busy topic, bounded per socket; past it the client resumes from its position instead. */
  maxBufferedBytes: 8 * 1024 * 1024,
  /** DEFAULT_LIMITS in @lifeline/protocol (1,000): more than any page needs, bounded replay work per hello. */
  maxSubscriptions: DEFAULT_LIMITS.maxSubscriptions as number,
  /**
   * A backend round trip with a retry fits, while a handler that never settles (a forgotten await on a promise
   * that never resolves) no longer stalls its session for good.
   */
  handlerTimeoutMs: 10_000,
  /**
   * A webhook's whole round trip (webhooks.timeoutMs). Well inside a client's 10 s connect timeout, so a hello
   * whose connect webhook hangs is refused (retryably) before the client gives up on its own; a send webhook
   * that slow holds its session's later writes, so not longer.
   */
  webhookTimeoutMs: 5_000,
  /**
   * How long POST /_lifeline/v1/publish remembers an `idempotencyKey`: a retry within it returns the first
   * result and appends nothing. 24 hours, as Stripe keeps its keys: a backend's retries, a job queue's
   * redelivery hours later, a replay after an outage all fall inside it. (The memory store also keeps at most
   * 100,000 keys: store/once.ts.)
   */
  idempotencyTtlMs: 24 * 3_600_000,
  /**
   * POST /_lifeline/v1/disconnect waits this long for every live node to say how many connections it closed;
   * a node that has not answered by then (frozen, cut off) is left out of `closed`. Nodes answer in
   * milliseconds over the store; 2 s is the Redis store's own command timeout.
   */
  disconnectTimeoutMs: 2_000,
  /** 0: any free port (read `node.port`); 127.0.0.1: not exposed to the network by accident. */
  port: 0,
  host: '127.0.0.1',
}

/** createNode's options with every default applied: merged here, once. */
export type ResolvedNodeOptions = typeof NODE_DEFAULTS & Omit<NodeOptions, keyof typeof NODE_DEFAULTS> & { onMessage: MessageHandler }

export function resolveNodeOptions(o: NodeOptions): ResolvedNodeOptions {
  if (o.webhooks?.send !== undefined && o.onMessage !== undefined) {
    throw new TypeError('createNode: give onMessage or webhooks.send, not both: each handles every send')
  }
  const defined = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as NodeOptions
  const r = { ...NODE_DEFAULTS, ...defined, webhookTimeoutMs: o.webhooks?.timeoutMs ?? NODE_DEFAULTS.webhookTimeoutMs, onMessage: o.onMessage ?? echoToInbox }
  for (const [name, v] of Object.entries(r)) {
    if (typeof v === 'number' && !(v >= 0)) throw new TypeError(`createNode: ${name} must be a number >= 0, got ${v}`)
  }
  return r
}

export const echoToInbox: MessageHandler = (ctx, data) => ctx.reply(data)
