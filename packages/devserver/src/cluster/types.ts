/** The supervisor's public shapes: options, node records, the cluster handle. */
import type { Store } from '../store/types.js'
import type { EventLog } from './events.js'
import type { ClusterStats } from './stats.js'
import type { AuthOptions } from '../security/jwt.js'
import type { WebhookOptions } from '../node/webhooks.js'
import type { ImpairOptions } from '../faults/options.js'

/**
 * starting: spawned, not yet listening. up: listening and passing health checks. down: alive but failing
 * health checks (or refusing connections). draining: leaving (SIGTERM sent; clients get 1012). frozen:
 * SIGSTOPped by `freeze`. dead: the process has exited.
 */
export type ClusterNodeStatus = 'starting' | 'up' | 'down' | 'draining' | 'frozen' | 'dead'

export interface ClusterNode {
  id: string
  /** OS process id of the current process (the last one, once dead). */
  pid: number | undefined
  /** The node's own port (clients use the balancer's); undefined until it listens. */
  port: number | undefined
  status: ClusterNodeStatus
  /** Live client connections the balancer routed to it. */
  connections: number
  /** Its network impairment (cluster.impair), as parsed; absent while its links are not impaired. */
  impairment?: ImpairOptions
}

/** Passed to every node process as flags; each default lives in the node (src/node/options.ts). */
export interface NodeProcessOptions {
  heartbeatMs?: number
  timeoutMs?: number
  sessionTtlMs?: number
  drainTimeoutMs?: number
  maxFrameBytes?: number
  /** The HTTP API's keys (createNode `apiKeys`), given to nodes in their environment. Default none: the API is off. */
  apiKeys?: string[]
  /** Require users' JWTs (createNode `auth`); the key or secret goes to nodes in their environment. Default: open. */
  auth?: AuthOptions
  /** Webhooks for a backend that is not Node (createNode `webhooks`). Default: none. */
  webhooks?: WebhookOptions
}

export interface ClusterOptions extends NodeProcessOptions {
  /** Node processes to start. Default 3: one to kill, one to take its sessions, one so it is still a cluster. */
  nodes?: number
  /** Balancer port. Default 0 (a free port; read `cluster.url`). */
  port?: number
  /** Balancer and node host. Default '127.0.0.1': a dev cluster is not on the network unless asked. */
  host?: string
  /**
   * `memory` (default): one in-memory store held by this process, served to nodes over IPC.
   * `redis://…`: every node connects to that Redis itself.
   * A Store object: served to nodes over IPC like `memory`, and left open by stop() (the caller owns it); for
   * custom retention or a clock, or a test that watches what the store refuses.
   */
  store?: string | Store
  /** HMAC secret for session tokens, shared by every node. Default: random per cluster. */
  secret?: string
  /** Start a crashed node again (same id). Default false: tests want a killed node to stay dead. */
  restart?: boolean
  /** Kill a random live node every this many ms, then start it again. Default: off. */
  chaosMs?: number
  /** Balancer health checks; defaults in balancer/health.ts. */
  health?: { intervalMs?: number; timeoutMs?: number; downAfter?: number; upAfter?: number }
  /** Memory store retention (ignored with Redis); defaults in store/retention.ts. */
  retention?: { maxMessages?: number; maxAgeMs?: number; maxBytes?: number; maxTotalBytes?: number }
  /** How long a node may take to start listening. Default 15 s: a cold start on a busy 2-core machine takes ~1 s. */
  startTimeoutMs?: number
  /**
   * Where node output and supervisor events go, one line each, prefixed `[n1]`. Default: nodes' stderr and
   * supervisor events to this process's stderr; nodes' stdout dropped (a test run stays readable).
   */
  log?: (line: string, stream: 'stdout' | 'stderr') => void
  /** Serve the admin API to non-loopback addresses too. Default false: it can kill nodes. */
  adminRemote?: boolean
  /** Node entry script. Default: dist/node/main.js of this package. */
  nodeEntry?: string
  /**
   * How the balancer reaches its node processes. `handoff` (default): each upgraded connection's socket is
   * passed to the node (balancer/handoff.ts), which then talks to the client directly; the bench's profile
   * had proxying as most of the supervisor's CPU. `proxy`: every byte goes through the balancer over a second
   * TCP connection, as with a balancer on another machine (HAProxy in production).
   */
  routing?: 'handoff' | 'proxy'
  /**
   * Impair every node's links from its start, as `cluster.impair(id, impair)` would (nodes added later too, and
   * each restart of a node). `cluster.heal()` ends it for every node, and nodes added after that start unimpaired.
   * Checked like `impair` (BAD_OPTION). Default: none, nothing is impaired. `lifeline dev --latency 200ms` sets it.
   */
  impair?: ImpairOptions
}

/** What is impaired now (Cluster.faults): by node id, and by session id. Empty objects when nothing is. */
export interface ClusterFaults {
  nodes: Record<string, ImpairOptions>
  sessions: Record<string, ImpairOptions>
}

export interface Cluster {
  /** ws:// URL of the balancer: what clients connect to. */
  readonly url: string
  /** http:// URL of the admin API on the balancer port. */
  readonly adminUrl: string
  /** A snapshot of every node the cluster knows, in id order. */
  readonly nodes: ClusterNode[]
  /**
   * Send `signal` (default SIGKILL: a real death) and resolve once the process has exited; at once for signals a
   * process survives (SIGSTOP, SIGCONT, SIGUSR1 …). One still alive drainTimeoutMs + 5 s later is SIGKILLed.
   */
  kill(id: string, signal?: NodeJS.Signals): Promise<void>
  /** The deploy path: out of the balancer, SIGTERM (clients get 1012), resolve once exited (SIGKILL after drainTimeoutMs + 5 s). */
  drain(id: string): Promise<void>
  /** SIGSTOP: sockets stay open, nothing answers (a hung VM, a GC pause, a stuck event loop). */
  freeze(id: string): Promise<void>
  /** SIGCONT. The balancer routes to it again after its next good health check. */
  thaw(id: string): Promise<void>
  /** Start one more node; resolves once it is up. */
  addNode(): Promise<ClusterNode>
  /** Drain it (if alive), then forget it. */
  removeNode(id: string): Promise<void>
  /** Drain it (if alive), then start a fresh process with the same id; resolves once that one is up. */
  restart(id: string): Promise<ClusterNode>
  /** restart() every live node, one after the other. */
  rollingRestart(): Promise<void>
  /** Every node state change, routing change and action, with times (events.ts); also GET /_lifeline/api/events. */
  readonly events: EventLog
  /**
   * Per node and second: connections, messages in/out, resumes; the store as nodes see it; the reconnect times of
   * the last fault (stats.ts). `stats.snapshot(after?)` is also GET /_lifeline/api/stats.
   */
  readonly stats: ClusterStats
  /**
   * Impair the node's network links (faults/options.ts ImpairOptions): every client connection it has or takes
   * (latency, jitter, bandwidth, blackhole: bytes stop both ways, sockets stay open), its health answers (held
   * while blackholed, so the balancer's probes time out), and with `store` its link to the cluster's store.
   * Replaces the node's previous impairment (not merged). Resolves once the node process shapes its links. Kept
   * across restarts of the node (an impairment is the slot's network, which a new process does not change)
   * until `heal`. Recorded in the event log. BAD_OPTION for a bad option (or a `store` part with a redis://
   * store, which nodes reach directly); NODE_NOT_FOUND for an unknown id. A frozen node applies it when thawed, a
   * dead one when restarted.
   */
  impair(id: string, options: ImpairOptions): Promise<void>
  /**
   * End an impairment: the node's (`id`), or with no argument every node's and every session's, and the
   * cluster-wide `impair` option's. What the links held flows at once, in order. Recorded in the event log.
   */
  heal(id?: string): Promise<void>
  /**
   * Impair one session's connections only, on whichever node they connect to, now and after a resume (a page's
   * own link: what impairPage does). In series with its node's impairment if that has one. No `store` part (a
   * session has no store link): BAD_OPTION. Replaces that session's previous impairment. Recorded in the event log.
   */
  impairSession(sessionId: string, options: ImpairOptions): Promise<void>
  /** End that session's impairment; what its links held flows at once, in order. Recorded in the event log. */
  healSession(sessionId: string): Promise<void>
  /** What is impaired now, by node and by session (copies). */
  readonly faults: ClusterFaults
  /** The node holding the session's live connection now (through the balancer), or undefined. */
  nodeOf(sessionId: string): string | undefined
  /** Kill every node, close the balancer and the store; resolves when nothing is left running. */
  stop(): Promise<void>
}
