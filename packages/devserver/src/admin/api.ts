/**
 * The admin HTTP API, served on the balancer's port under /_lifeline/api/ (plain HTTP; the same port proxies
 * WebSocket upgrades). Loopback clients, addressed by a loopback name (or the cluster's host), unless
 * `allowRemote`: these routes kill processes.
 *
 *   GET    /_lifeline/api/nodes                 → 200 { nodes: [{ id, pid, port, status, connections }] }
 *   POST   /_lifeline/api/nodes                 → 201 { node }            start one more node
 *   POST   /_lifeline/api/nodes/:id/kill        → 200 { node }            ?signal=SIGTERM (default SIGKILL)
 *   POST   /_lifeline/api/nodes/:id/drain|freeze|thaw|restart → 200 { node }
 *   POST   /_lifeline/api/nodes/:id/impair      → 200 { node }            body: ImpairOptions JSON (faults/options.ts)
 *   POST   /_lifeline/api/nodes/:id/heal        → 200 { node }            end that node's impairment
 *   POST   /_lifeline/api/heal                  → 200 { faults }          end every node's and session's
 *   DELETE /_lifeline/api/nodes/:id             → 200 { removed: id }     drain, then forget
 *   GET    /_lifeline/api/sessions/:sid         → 200 { session, node }   which node serves it now
 *   POST   /_lifeline/api/sessions/:sid/impair  → 200 { session, faults } body: ImpairOptions without `store`
 *   POST   /_lifeline/api/sessions/:sid/heal    → 200 { session, faults }
 *   GET    /_lifeline/api/events?after=<seq>    → 200 { events }          the event log (cluster/events.ts)
 *   GET    /_lifeline/api/stats?after=<ms>      → 200 StatsSnapshot       samples after that time (cluster/stats.ts)
 *   GET    /  (or /_lifeline/)                  → the dashboard (dashboard/), a page over these routes;
 *          /_lifeline/dashboard/<file>          its scripts and styles (dashboard/serve.ts)
 * Errors: { error: { code, message } }, with the code's status; codes and statuses are in ../errors.ts. An
 * impair body that is not JSON is 400 BAD_REQUEST, one that is not an impairment 400 BAD_OPTION (parseImpairment's
 * message), one over MAX_ADMIN_BODY_BYTES 400 BAD_REQUEST (and the connection closed).
 */
import type http from 'node:http'
import { ClusterError, ClusterErrorCode, ERROR_STATUS, errorBody } from '../errors.js'
import { guardRequest } from '../http/guard.js'
import { originHost, parseHost, parseTarget, quoteInput } from '../http/parse.js'
import type { Cluster } from '../cluster/types.js'
import type { ImpairOptions } from '../faults/options.js'
import { readBody } from '../http/body.js'
import { routeAdmin, type AdminAction } from './routes.js'
import { dashboardAsset, type DashboardAsset } from './dashboard/serve.js'

const ADMIN_PREFIX = '/_lifeline/api/'
/**
 * The largest admin body read: an impairment is under 200 bytes of JSON; 16 KiB leaves room for whitespace and
 * bounds what a request can make the supervisor hold (it serves every node).
 */
export const MAX_ADMIN_BODY_BYTES = 16 * 1024

export interface AdminOptions {
  /** Serve non-loopback clients, by any Host, too. Default false. */
  allowRemote: boolean
  /** The balancer's `host`: unless it is a wildcard (0.0.0.0, ::), a name Host may carry besides loopback names. */
  host?: string
  /** Where a request that failed on our side is reported, one line. Default: stderr. */
  log?: (line: string) => void
}

/** The balancer's `onRequest`. `getCluster` is late-bound: the balancer listens before the cluster exists. */
export function createAdminHandler(getCluster: () => Cluster | undefined, options: AdminOptions): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const ownHost = configuredHost(options.host)
  const log = options.log ?? ((line: string) => console.error(line))
  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void | Promise<void> => {
    const target = parseTarget(req.url)
    if (!target) return replyError(res, ClusterErrorCode.BAD_REQUEST, `request target ${quoteInput(req.url)} is not a path (/…) or an absolute http:// URL`)
    const url = target.url
    const cluster = getCluster()
    let asset: DashboardAsset | undefined
    try {
      asset = req.method === 'GET' ? dashboardAsset(url.pathname) : undefined
    } catch (e) {
      log(`[admin] ${(e as Error).message}`)
      return replyError(res, ClusterErrorCode.INTERNAL, (e as Error).message)
    }
    const dashboard = asset !== undefined
    if ((!dashboard && !url.pathname.startsWith(ADMIN_PREFIX)) || !cluster) {
      return replyError(res, ClusterErrorCode.NOT_FOUND, `this port proxies WebSocket upgrades; the admin API is under ${ADMIN_PREFIX}nodes`)
    }
    if (!options.allowRemote && !isLoopback(req.socket.remoteAddress)) {
      return replyError(res, ClusterErrorCode.FORBIDDEN, 'the admin API answers loopback clients only (start the cluster with adminRemote to change that)')
    }
    // An absolute-form target's authority is the request's host, whatever Host says (RFC 9112 §3.2.2).
    const hostValue = target.authority ?? req.headers.host
    const host = parseHost(hostValue)
    if (!host) {
      const message = hostValue === undefined ? 'no Host header; send the host and port you connected to' : `Host ${quoteInput(hostValue)} is not a host[:port]`
      return replyError(res, ClusterErrorCode.BAD_REQUEST, message)
    }
    // A loopback client is not enough either: DNS rebinding. A page on attacker.example re-points that name at
    // 127.0.0.1, and the browser then treats this port as attacker.example itself, so Origin and Host agree and
    // the Origin check below passes. The name the browser used gives it away, so Host must be one that only
    // resolves here. adminRemote accepts any Host: other machines reach a cluster served to them by an address
    // or a name we cannot know, and the Origin check still stops a page forging a POST from another site.
    if (!options.allowRemote && !hostAllowed(host.hostname, ownHost)) {
      const message = `Host ${quoteInput(host.host)} is not localhost, 127.x.x.x, [::1] or the cluster's host; open http://localhost${host.host.slice(host.hostname.length)}/, or start the cluster with that host (or adminRemote)`
      return replyError(res, ClusterErrorCode.HOST_NOT_ALLOWED, message)
    }
    // Loopback is not enough: any web page open in the developer's browser can send a simple cross-site POST
    // (a form, a no-cors fetch) to 127.0.0.1 without a preflight. Browsers always attach Origin to those.
    if (req.method !== 'GET' && req.method !== 'HEAD' && crossOrigin(req.headers.origin, host.host)) {
      const message = `origin ${String(req.headers.origin)} may not change this cluster; use the dashboard on this port, curl, or the API from Node`
      return replyError(res, ClusterErrorCode.CROSS_ORIGIN, message)
    }
    if (asset) {
      // no-cache with an ETag, not no-store: a reload revalidates (a new version shows at once) and gets a 304
      // for what did not change, rather than uPlot's 50 KB again.
      const headers = { 'cache-control': 'no-cache', etag: asset.etag }
      if (req.headers['if-none-match'] === asset.etag) return void res.writeHead(304, headers).end()
      res.writeHead(200, { ...headers, 'content-type': asset.contentType, 'content-length': asset.body.length })
      return void res.end(asset.body)
    }
    const action = routeAdmin(req.method ?? 'GET', url)
    if ('error' in action) return replyError(res, action.error.code, action.error.message)
    const body = action.kind === 'impair' || action.kind === 'impair-session' ? readJson(req) : Promise.resolve({ value: undefined })
    return body.then((input) => ('refused' in input ? input.refused : run(cluster, action, input.value))).then(
      ({ status, body, close }) => reply(res, status, body, close),
      (e: unknown) => {
        const code = e instanceof ClusterError ? e.code : ClusterErrorCode.INTERNAL
        if (code === ClusterErrorCode.INTERNAL) log(`[admin] ${req.method} ${quoteInput(req.url)} failed: ${String(e)}; answered 500`)
        replyError(res, code, (e as Error)?.message ?? String(e))
      },
    )
  }
  // Whatever escapes `handle` (a bug, not input: input is parsed by http/parse.ts) is answered 500, not thrown.
  return guardRequest(handle, (line) => log(`[admin] ${line}`))
}

/** `close`: the rest of the request was not read, so the connection goes with the answer. */
type Answer = { status: number; body: unknown; close?: boolean }

/**
 * An impair request's body as JSON, read up to MAX_ADMIN_BODY_BYTES; `refused` is the answer when it cannot be
 * used. What the JSON must be is parseImpairment's to say (Cluster.impair calls it), so the message is the same
 * as from the API and the CLI.
 */
async function readJson(req: http.IncomingMessage): Promise<{ value: unknown } | { refused: Answer }> {
  const text = await readBody(req, MAX_ADMIN_BODY_BYTES)
  const refuse = (code: ClusterErrorCode, message: string, close = false): { refused: Answer } => ({ refused: { status: ERROR_STATUS[code], body: errorBody(code, message), close } })
  if (text === undefined) return refuse(ClusterErrorCode.BAD_REQUEST, `the body is over ${MAX_ADMIN_BODY_BYTES} bytes; an impairment is a small JSON object such as {"latencyMs":200}`, true)
  if (text.trim() === '') return refuse(ClusterErrorCode.BAD_OPTION, 'the body is empty; send the impairment as JSON, e.g. {"latencyMs":200,"jitterMs":50} or {"blackhole":true}')
  try {
    return { value: JSON.parse(text) as unknown }
  } catch (e) {
    return refuse(ClusterErrorCode.BAD_REQUEST, `the body is not JSON (${(e as Error).message}); send an impairment such as {"latencyMs":200}`)
  }
}

async function run(cluster: Cluster, action: AdminAction, body: unknown): Promise<Answer> {
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
        return { status: ERROR_STATUS.SESSION_NOT_FOUND, body: errorBody(ClusterErrorCode.SESSION_NOT_FOUND, message) }
      }
      return { status: 200, body: { session: action.session, node: id } }
    }
    case 'events':
      return { status: 200, body: { events: cluster.events.list(action.after) } }
    case 'stats':
      return { status: 200, body: cluster.stats.snapshot(action.after) }
    case 'kill':
      await cluster.kill(action.id, action.signal)
      return { status: 200, body: { node: node(action.id) } }
    case 'restart':
      return { status: 200, body: { node: await cluster.restart(action.id) } }
    case 'impair':
      await cluster.impair(action.id, body as ImpairOptions)
      return { status: 200, body: { node: node(action.id) } }
    case 'heal':
      await cluster.heal(action.id)
      return { status: 200, body: { node: node(action.id) } }
    case 'heal-all':
      await cluster.heal()
      return { status: 200, body: { faults: cluster.faults } }
    case 'impair-session':
      await cluster.impairSession(action.session, body as ImpairOptions)
      return { status: 200, body: { session: action.session, faults: cluster.faults } }
    case 'heal-session':
      await cluster.healSession(action.session)
      return { status: 200, body: { session: action.session, faults: cluster.faults } }
    default:
      await cluster[action.kind](action.id)
      return { status: 200, body: { node: node(action.id) } }
  }
}

function reply(res: http.ServerResponse, status: number, body: unknown, close = false): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...(close ? { connection: 'close' } : {}) })
  res.end(JSON.stringify(body))
}

/** An error answer: the code's own status (errors.ts), its code and what to do in the body. */
function replyError(res: http.ServerResponse, code: ClusterErrorCode, message: string): void {
  reply(res, ERROR_STATUS[code], errorBody(code, message))
}

/** An `Origin` header naming anything but this very host:port (the dashboard's own requests carry that). */
function crossOrigin(origin: string | undefined, host: string): boolean {
  return origin !== undefined && originHost(origin) !== host // `null` or garbage names no host: cross-origin
}

/** Names that only ever resolve to this machine: localhost and *.localhost (RFC 6761), 127.0.0.0/8, [::1]. */
function hostAllowed(hostname: string, ownHost: string | undefined): boolean {
  const name = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname
  if (name === 'localhost' || name.endsWith('.localhost') || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name)) return true
  return name === ownHost
}

/** The balancer's host as Host carries it (normalised like parseHost), or undefined for a wildcard, which names no host. */
function configuredHost(host: string | undefined): string | undefined {
  if (!host) return undefined
  const hostname = parseHost(host.includes(':') && !host.startsWith('[') ? `[${host}]` : host)?.hostname
  if (!hostname || hostname === '0.0.0.0' || hostname === '[::]') return undefined
  return hostname.endsWith('.') ? hostname.slice(0, -1) : hostname
}

function isLoopback(address: string | undefined): boolean {
  return !!address && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'))
}
