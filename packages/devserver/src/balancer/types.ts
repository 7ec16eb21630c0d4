/** The balancer's public shapes: its options, the nodes it routes to, and the change events it emits. */
import type http from 'node:http'
import type { Health, HealthOptions } from './health.js'
import type { Handoff } from './handoff.js'

export interface BackendAddress {
  id: string
  host: string
  port: number
  /**
   * A node process of this one (the cluster's): connections are passed to it (handoff.ts) rather than
   * proxied to host:port. Absent: proxied (tunnel.ts), for nodes anywhere.
   */
  handoff?: Handoff
}

export interface BackendInfo extends Omit<BackendAddress, 'handoff'> {
  health: Health
  /** Taken out of routing because it is leaving (supervisor drain or the node's own healthz). */
  draining: boolean
  /** Routable: health up and not draining. */
  routable: boolean
  connections: number
}

export interface BalancerOptions {
  /** Port to listen on. Default 0: the OS picks a free one (read `balancer.port`). */
  port?: number
  /** Default '127.0.0.1': a dev cluster is not exposed to the network unless asked. */
  host?: string
  health?: Partial<HealthOptions>
  /**
   * Close a node's proxied sockets when health checks take it out. Default true (HAProxy's
   * `on-marked-down shutdown-sessions`): a node that stops answering is frozen or dying, and its clients
   * are better off resuming elsewhere now than waiting for their heartbeat timeout.
   */
  closeOnDown?: boolean
  /** Plain HTTP requests (not upgrades). Default: 404 JSON. What it throws is answered 500 and logged. */
  onRequest?: (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>
  /** Where a request or upgrade that failed on our side is reported, one line each. Default: stderr. */
  log?: (line: string) => void
}

export interface BackendChange {
  id: string
  health: Health
  draining: boolean
  /** Why: `probe: ECONNREFUSED`, `refused`, `process exited`, `draining` … */
  reason: string
  /** Proxied connections closed by this change. */
  closed: number
}
