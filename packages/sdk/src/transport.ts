/**
 * The socket, as the core sees it: connect(url), write(text), disconnect(code), and three events back. One
 * WebSocket at a time, made with the injected constructor (or the global one, read at each connect, so test
 * interceptors installed later apply). Events of a socket we already gave up on never reach the core.
 *
 * Why not partysocket (the first slice used it): the core owns every decision partysocket makes (its queue,
 * reconnect loop, timeout and URL provider were all switched off), and on a failed connection it reports a
 * made-up close 1000 "unknown reason" before the real error, so a refused port or an HTTP 503 on the upgrade
 * could not be told apart. What was left was a wrapper around one socket, 2.7 KB of a 10 KB bundle.
 */
import type { WebSocketConstructor } from './types.js'

export interface TransportEvents {
  open(): void
  text(data: unknown): void
  /** `reason`: the close reason, or what the platform said about the failure (Node's `ws` says why; browsers do not). */
  close(code: number, reason: string): void
}

/** The part of a WebSocket (the browser's, `ws`'s, msw's) the transport touches. */
interface Socket {
  readyState: number
  send(text: string): void
  close(code?: number, reason?: string): void
  onopen: ((e: unknown) => void) | null
  onmessage: ((e: { data: unknown }) => void) | null
  onerror: ((e: { message?: string; error?: { message?: string } }) => void) | null
  onclose: ((e: { code: number; reason: string }) => void) | null
}

/** Close code of a socket that failed without a close frame (RFC 6455 §7.1.5). */
const ABNORMAL = 1006

export class Transport {
  #socket: Socket | undefined
  /** Bumped whenever the current socket is given up on: its late events are dropped by comparing it. */
  #current = 0

  readonly #WebSocket: WebSocketConstructor | undefined
  readonly #on: TransportEvents

  constructor(WebSocket: WebSocketConstructor | undefined, on: TransportEvents) {
    this.#WebSocket = WebSocket
    this.#on = on
  }

  connect(url: string): void {
    this.disconnect(1000, 'replaced')
    const id = ++this.#current
    const live = () => id === this.#current
    const Ctor = this.#WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    let socket: Socket
    try {
      socket = new (Ctor as WebSocketConstructor)(url) as Socket
    } catch (e) {
      // A URL the platform refuses (mixed content, a bad port) throws here: report it as a failed attempt.
      return void Promise.resolve().then(() => live() && this.#closed(ABNORMAL, String((e as Error)?.message ?? e)))
    }
    this.#socket = socket
    let failure = ''
    socket.onopen = () => live() && this.#on.open()
    socket.onmessage = (e) => live() && this.#on.text(e.data)
    // An error is always followed by close; keep what it said for the close's reason.
    socket.onerror = (e) => void (failure = e?.message || e?.error?.message || 'connection failed')
    socket.onclose = (e) => live() && this.#closed(e.code || ABNORMAL, e.reason || failure)
  }

  write(text: string): void {
    if (this.#socket?.readyState === 1) this.#socket.send(text)
  }

  disconnect(code: number, reason: string): void {
    const socket = this.#drop()
    if (!socket) return
    socket.onopen = socket.onmessage = socket.onclose = null
    // Not null: Node's `ws` reports a socket closed mid-handshake as an 'error' on a later tick, and an 'error'
    // with no listener is thrown there, taking the app's process down. Browsers need no listener; it costs nothing.
    socket.onerror = () => {}
    try {
      socket.close(code, reason.slice(0, 120)) // close reasons are limited to 123 UTF-8 bytes
    } catch {
      socket.close() // a code the platform will not send: close without one
    }
  }

  #closed(code: number, reason: string): void {
    this.#drop()
    this.#on.close(code, reason)
  }

  /** Give up on the current socket: its late events are dropped from now on. */
  #drop(): Socket | undefined {
    const socket = this.#socket
    this.#socket = undefined
    this.#current++
    return socket
  }
}
