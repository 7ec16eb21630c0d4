/** The HTTP/1.1 bits of proxying an upgrade: re-writing the client's request for the node, refusing one. */
import type http from 'node:http'
import type { Duplex } from 'node:stream'

/** `?sid=` of the request URL, if any. */
export function sessionIdOf(url: string | undefined): string | undefined {
  if (!url) return undefined
  const sid = new URL(url, 'http://balancer').searchParams.get('sid')
  return sid ? sid : undefined
}

/**
 * The original request line and headers, byte for byte as the client sent them (rawHeaders keeps order and
 * case), plus X-Forwarded-For so the node can log and rate-limit by the real client address.
 */
export function requestHead(req: http.IncomingMessage): string {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`]
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`)
  const peer = req.socket.remoteAddress
  if (peer) lines.push(`X-Forwarded-For: ${peer}`)
  return lines.join('\r\n') + '\r\n\r\n'
}

/** Answers an upgrade with a plain HTTP error and closes it: the client's WebSocket fails and it retries. */
export function rejectUpgrade(client: Duplex, status: number, message: string): void {
  if (client.destroyed) return
  const body = JSON.stringify({ error: { code: 'NO_NODE', message } })
  client.end(
    `HTTP/1.1 ${status} ${status === 503 ? 'Service Unavailable' : 'Error'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}
