/**
 * One proxied upgrade: open a TCP connection to the node, replay the client's request on it, then pipe bytes
 * both ways untouched, watching the node's first bytes for the welcome frame (sniff.ts). Routing and
 * bookkeeping stay with the caller (balancer.ts), told through three callbacks.
 */
import net from 'node:net'
import type http from 'node:http'
import type { Duplex } from 'node:stream'
import { sniffWelcome } from './sniff.js'
import { requestHead } from './upgrade.js'

export interface TunnelEvents {
  /** The node's welcome named the session. */
  identified(sessionId: string): void
  /** Either side closed after the tunnel was up (or the client left while it was being set up). */
  closed(): void
  /** The node could not be reached before a byte went to the client: the caller may route elsewhere. */
  refused(error: NodeJS.ErrnoException): void
  /**
   * The node answered the upgrade with 503 (it is draining and no longer accepts). Nothing went to the client
   * yet: the caller may route elsewhere, so a client that raced a drain never sees the refusal.
   */
  unavailable(): void
}

/** A response head longer than this is not one a node sends; pass it through rather than buffer more. */
const HEAD_LIMIT = 16 * 1024
const HEAD_END = Buffer.from('\r\n\r\n')

/** Returns the upstream socket; the caller destroys it (with the client) to cut the tunnel. */
export function openTunnel(
  req: http.IncomingMessage,
  client: Duplex,
  head: Buffer,
  target: { host: string; port: number },
  on: TunnelEvents,
): net.Socket {
  const upstream = net.connect({ host: target.host, port: target.port })
  upstream.setNoDelay(true)
  let connected = false
  const clientGone = (): void => on.closed()
  client.once('close', clientGone)
  upstream.once('connect', () => {
    connected = true
    upstream.write(requestHead(req))
    if (head.length > 0) upstream.write(head)
    // Hold the node's answer until its status line is in: a 503 can still be retried on another node.
    let answer = Buffer.alloc(0)
    const onAnswer = (chunk: Buffer): void => {
      answer = Buffer.concat([answer, chunk])
      if (answer.indexOf(HEAD_END) < 0 && answer.length < HEAD_LIMIT) return
      upstream.off('data', onAnswer)
      if (answer.subarray(0, 13).toString('latin1') === 'HTTP/1.1 503 ') {
        client.off('close', clientGone)
        upstream.removeAllListeners('close').removeAllListeners('error').on('error', () => {})
        upstream.destroy()
        return on.unavailable()
      }
      client.write(answer)
      sniff(upstream, answer, on.identified)
      upstream.pipe(client)
      client.pipe(upstream)
    }
    upstream.on('data', onAnswer)
  })
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (connected || client.destroyed) return on.closed()
    // Refused before a byte reached the client: the caller can try another node, and the client never knows.
    client.off('close', clientGone)
    on.refused(err)
  })
  upstream.once('close', () => {
    if (connected) on.closed()
  })
  return upstream
}

/** Watches the node's first bytes (`seen` so far, then what follows) for the welcome frame, then stops watching. */
function sniff(upstream: net.Socket, seen: Buffer, identified: (sessionId: string) => void): void {
  const check = (): boolean => {
    const result = sniffWelcome(seen)
    if (result.state === 'found' && !upstream.destroyed) identified(result.sessionId)
    return result.state !== 'more'
  }
  if (check()) return
  const onData = (chunk: Buffer): void => {
    seen = Buffer.concat([seen, chunk])
    if (check()) upstream.off('data', onData)
  }
  upstream.on('data', onData)
}
