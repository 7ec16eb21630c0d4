/**
 * Plain HTTP requests that are the nodes' (the HTTP API under /_lifeline/v1/), forwarded from the balancer's
 * port to one routable node, so a backend needs one address for a cluster as clients do. Which node does not
 * matter (every node answers the whole API from the shared store); the balancer picks as for a new connection.
 *
 * The request body is not read until the node accepted the TCP connection, so a node that refuses it (it just
 * died) is skipped for the next one, as an upgrade is, and the backend never knows. Once a byte went to a node
 * the request is that node's: a failure after that is answered 503 NO_NODE, and a publish retried with the
 * same idempotencyKey still applies once.
 */
import http from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ERROR_STATUS, errorBody } from '../errors.js'
import type { BackendAddress } from './types.js'

/** A node that accepted the connection has this long to answer: the API's slowest call (disconnect) waits 2 s. */
export const FORWARD_TIMEOUT_MS = 30_000

export interface ForwardRoute {
  /** The node to try next, not one of `tried`; undefined when none is left. */
  pick(tried: ReadonlySet<string>): BackendAddress | undefined
  /** This node refused the connection: out of routing until its health check says otherwise. */
  refused(id: string, error: NodeJS.ErrnoException): void
}

export function forwardRequest(req: IncomingMessage, res: ServerResponse, route: ForwardRoute, tried = new Set<string>()): void {
  const node = route.pick(tried)
  if (!node) return fail(res, 'no node answered; retry with backoff')
  const headers = { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress ?? '' }
  const upstream = http.request({ host: node.host, port: node.port, method: req.method, path: req.url, headers, agent: false, timeout: FORWARD_TIMEOUT_MS })
  let connected = false
  upstream.once('socket', (socket) =>
    socket.once('connect', () => {
      connected = true
      req.pipe(upstream)
    }),
  )
  upstream.once('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers)
    answer.pipe(res)
  })
  upstream.once('timeout', () => upstream.destroy(new Error(`no answer within ${FORWARD_TIMEOUT_MS} ms`)))
  upstream.once('error', (e: NodeJS.ErrnoException) => {
    if (!connected) {
      route.refused(node.id, e)
      tried.add(node.id)
      return forwardRequest(req, res, route, tried)
    }
    if (!res.headersSent) fail(res, `node ${node.id} failed before answering (${e.message}); retry (a publish with the same idempotencyKey applies once)`)
    else res.destroy()
  })
  // The backend hung up: so does the node's request.
  res.once('close', () => upstream.destroy())
}

function fail(res: ServerResponse, message: string): void {
  res.writeHead(ERROR_STATUS.NO_NODE, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(JSON.stringify(errorBody('NO_NODE', message)))
}
