/** The HTTP/1.1 bits of proxying an upgrade: re-writing the client's request for the node, refusing one. */
import { STATUS_CODES, type IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { ERROR_STATUS, errorBody, type ClusterErrorCode } from '../errors.js'

/** `?sid=` of the request target (parsed with http/parse.ts's parseTarget), if any. */
export function sessionIdOf(target: URL): string | undefined {
  const sid = target.searchParams.get('sid')
  return sid ? sid : undefined
}

/**
 * The original request line and headers, byte for byte as the client sent them (rawHeaders keeps order and
 * case), plus X-Forwarded-For so the node can log and rate-limit by the real client address.
 */
export function requestHead(req: IncomingMessage): string {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`]
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`)
  const peer = req.socket.remoteAddress
  if (peer) lines.push(`X-Forwarded-For: ${peer}`)
  return lines.join('\r\n') + '\r\n\r\n'
}

/**
 * Answers an upgrade with a plain HTTP error, at the code's status (../errors.ts), and closes it: the client's
 * WebSocket fails and it retries. NO_NODE: nowhere to route; BAD_REQUEST: a target we cannot read; INTERNAL: our bug.
 */
export function rejectUpgrade(client: Duplex, code: Extract<ClusterErrorCode, 'NO_NODE' | 'BAD_REQUEST' | 'INTERNAL'>, message: string): void {
  if (client.destroyed) return
  const status = ERROR_STATUS[code]
  const body = JSON.stringify(errorBody(code, message))
  // Destroyed once written: half-closed, the socket would stay ours for as long as the client keeps its side open.
  client.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    () => client.destroy(),
  )
}
