/**
 * The admin HTTP API, served on the balancer's port under /_lifeline/api/ (plain HTTP; the same port proxies
 * WebSocket upgrades). Loopback clients only unless `allowRemote`: these routes kill processes.
 *
 *   GET    /_lifeline/api/nodes                 → 200 { nodes: [{ id, pid, port, status, connections }] }
 *   POST   /_lifeline/api/nodes                 → 201 { node }            start one more node
 *   POST   /_lifeline/api/nodes/:id/kill        → 200 { node }            ?signal=SIGTERM (default SIGKILL)
 *   POST   /_lifeline/api/nodes/:id/drain|freeze|thaw|restart → 200 { node }
 *   DELETE /_lifeline/api/nodes/:id             → 200 { removed: id }     drain, then forget
 *   GET    /_lifeline/api/sessions/:sid         → 200 { session, node }   which node serves it now
 *   GET    /  (or /_lifeline/)                  → the dashboard (dashboard.ts), a page over these routes
 * Errors: { error: { code, message } } with a ClusterErrorCode or one of ADMIN_ERRORS below.
 */
import type http from 'node:http'
import { ClusterError, ClusterErrorCode } from '../cluster/errors.js'
import type { Cluster } from '../cluster/types.js'
import { routeAdmin, type AdminAction } from './routes.js'
import { DASHBOARD_HTML, DASHBOARD_PATHS } from './dashboard.js'

export const ADMIN_PREFIX = '/_lifeline/api/'

/** Error codes of the HTTP layer itself (the cluster's own are in cluster/errors.ts). */
export const AdminErrorCode = {
  /** No such route; the message lists the routes. */
  NOT_FOUND: 'NOT_FOUND',
  /** The route exists but not with this HTTP method. */
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  /** The request came from a non-loopback address and the cluster was not started with adminRemote. */
  FORBIDDEN: 'FORBIDDEN',
  /** A state-changing request whose `Origin` is another site (a page the developer has open, forging a POST). */
  CROSS_ORIGIN: 'CROSS_ORIGIN',
  /** The session has no live connection through this balancer. */
  SESSION_NOT_FOUND: 'SESSION_NOT_FOUND',
  /** Something unexpected failed; the message says what. */
  INTERNAL: 'INTERNAL',
} as const

const STATUS: Record<string, number> = {
  [AdminErrorCode.NOT_FOUND]: 404,
  [AdminErrorCode.METHOD_NOT_ALLOWED]: 405,
  [AdminErrorCode.FORBIDDEN]: 403,
  [AdminErrorCode.CROSS_ORIGIN]: 403,
  [AdminErrorCode.SESSION_NOT_FOUND]: 404,
  [AdminErrorCode.INTERNAL]: 500,
  [ClusterErrorCode.NODE_NOT_FOUND]: 404,
  [ClusterErrorCode.NODE_NOT_RUNNING]: 409,
  [ClusterErrorCode.CLUSTER_STOPPED]: 503,
  [ClusterErrorCode.BAD_OPTION]: 400,
  [ClusterErrorCode.NODE_START_FAILED]: 500,
  [ClusterErrorCode.NODE_START_TIMEOUT]: 504,
}

export interface AdminOptions {
  /** Serve non-loopback clients too. Default false. */
  allowRemote: boolean
}

/** The balancer's `onRequest`. `getCluster` is late-bound: the balancer listens before the cluster exists. */
export function createAdminHandler(getCluster: () => Cluster | undefined, options: AdminOptions) {
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://balancer')
    const cluster = getCluster()
    const dashboard = req.method === 'GET' && DASHBOARD_PATHS.has(url.pathname)
    if ((!dashboard && !url.pathname.startsWith(ADMIN_PREFIX)) || !cluster) {
      return reply(res, 404, { error: { code: AdminErrorCode.NOT_FOUND, message: `this port proxies WebSocket upgrades; the admin API is under ${ADMIN_PREFIX}nodes` } })
    }
    if (!options.allowRemote && !isLoopback(req.socket.remoteAddress)) {
      return reply(res, 403, { error: { code: AdminErrorCode.FORBIDDEN, message: 'the admin API answers loopback clients only (start the cluster with adminRemote to change that)' } })
    }
    // Loopback is not enough: any web page open in the developer's browser can send a simple cross-site POST
    // (a form, a no-cors fetch) to 127.0.0.1 without a preflight. Browsers always attach Origin to those.
    if (req.method !== 'GET' && req.method !== 'HEAD' && crossOrigin(req)) {
      const message = `origin ${String(req.headers.origin)} may not change this cluster; use the dashboard on this port, curl, or the API from Node`
      return reply(res, 403, { error: { code: AdminErrorCode.CROSS_ORIGIN, message } })
    }
    if (dashboard) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      return void res.end(DASHBOARD_HTML)
    }
    const action = routeAdmin(req.method ?? 'GET', url)
    if ('error' in action) return reply(res, STATUS[action.error.code] ?? 400, action)
    run(cluster, action).then(
      ({ status, body }) => reply(res, status, body),
      (e: unknown) => {
        const code = e instanceof ClusterError ? e.code : AdminErrorCode.INTERNAL
        reply(res, STATUS[code] ?? 500, { error: { code, message: (e as Error)?.message ?? String(e) } })
      },
    )
  }
}

async function run(cluster: Cluster, action: AdminAction): Promise<{ status: number; body: unknown }> {
  const node = (id: string) => cluster.nodes.find((n) => n.id === id)
  switch (action.kind) {
    case 'list':
      return { status: 200, body: { nodes: cluster.nodes } }
    case 'add':
      return { status: 201, body: { node: await cluster.addNode() } }
    case 'remove':
      await cluster.removeNode(action.id)
      return { status: 200, body: { removed: action.id } }
    case 'session': {
      const id = cluster.nodeOf(action.session)
      if (!id) {
        const message = `session "${action.session}" has no live connection through this balancer`
        return { status: 404, body: { error: { code: AdminErrorCode.SESSION_NOT_FOUND, message } } }
      }
      return { status: 200, body: { session: action.session, node: id } }
    }
    case 'kill':
      await cluster.kill(action.id, action.signal)
      return { status: 200, body: { node: node(action.id) } }
    case 'restart':
      return { status: 200, body: { node: await cluster.restart(action.id) } }
    default:
      await cluster[action.kind](action.id)
      return { status: 200, body: { node: node(action.id) } }
  }
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}

/** An `Origin` header naming anything but this very host:port (the dashboard's own requests carry that). */
function crossOrigin(req: http.IncomingMessage): boolean {
  const origin = req.headers.origin
  if (origin === undefined) return false
  try {
    return new URL(origin).host !== req.headers.host
  } catch {
    return true
  }
}

function isLoopback(address: string | undefined): boolean {
  return !!address && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'))
}
