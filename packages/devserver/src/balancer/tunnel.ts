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
}

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
    sniff(upstream, on.identified)
    upstream.pipe(client)
    client.pipe(upstream)
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

/** Watches the node's first bytes for the welcome frame, then stops watching. */
function sniff(upstream: net.Socket, identified: (sessionId: string) => void): void {
  let seen = Buffer.alloc(0)
  const onData = (chunk: Buffer): void => {
    seen = Buffer.concat([seen, chunk])
    const result = sniffWelcome(seen)
    if (result.state === 'more') return
    upstream.off('data', onData)
    if (result.state === 'found' && !upstream.destroyed) identified(result.sessionId)
  }
  upstream.on('data', onData)
}
