/**
 * The socket, as the core sees it: connect(url), write(text), disconnect(code), and three events back.
 * Built on partysocket's ReconnectingWebSocket (injectable WebSocket, URL provider, and a single socket per
 * instance, so never two at once), with everything it would decide on its own switched off, because the
 * session core owns those decisions:
 * - its queue (maxEnqueuedMessages: 0): the outbox owns buffering; a second queue would resend frames with
 *   stale seqs after a resume.
 * - its reconnect loop (startClosed, shouldReconnectOnClose: false): its delay is min·grow^n without jitter
 *   and on a global setTimeout; ours is full jitter, immediate on 1012/online, on injectable timers.
 * - its connection timeout (effectively infinite): the core's silence timer covers socket open + welcome.
 * Events of a connection we already gave up on are dropped (`live`), so a late close never reaches the core.
 */
import ReconnectingWebSocket from 'partysocket/ws'
import type { WebSocketConstructor } from './types.js'

export interface TransportEvents {
  open(): void
  text(data: unknown): void
  close(code: number, reason: string): void
}

const NEVER = 2 ** 31 - 1 // largest setTimeout delay; cleared on open/close anyway

export class Transport {
  private readonly rws: ReconnectingWebSocket
  private url = ''
  private live = false
  private closeSeen = false

  constructor(WebSocket: WebSocketConstructor | undefined, on: TransportEvents) {
    this.rws = new ReconnectingWebSocket(() => this.url, undefined, {
      WebSocket,
      startClosed: true,
      maxEnqueuedMessages: 0,
      shouldReconnectOnClose: () => false,
      connectionTimeout: NEVER,
    })
    this.rws.addEventListener('open', () => this.live && on.open())
    this.rws.addEventListener('message', (e) => this.live && on.text(e.data))
    this.rws.addEventListener('close', (e) => {
      if (!this.live || this.closeSeen) return
      this.closeSeen = true
      this.live = false
      on.close(e.code, e.reason)
    })
    // partysocket reports a failure to create the socket (bad URL, constructor throws) only as `error`, with
    // no `close`, and then retries on its own schedule: stop that, and tell the core the attempt failed.
    this.rws.addEventListener('error', (e) => {
      if (!this.live || this.closeSeen) return
      this.closeSeen = true
      this.live = false
      this.rws.close()
      on.close(1006, e.message ?? 'connection failed')
    })
  }

  connect(url: string): void {
    this.url = url
    this.live = true
    this.closeSeen = false
    this.rws.reconnect()
  }

  write(text: string): void {
    if (this.live) this.rws.send(text)
  }

  disconnect(code: number, reason: string): void {
    this.live = false
    this.rws.close(code, reason.slice(0, 120)) // close reasons are limited to 123 UTF-8 bytes
  }
}
