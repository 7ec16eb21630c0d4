/**
 * A connection attempt that fails must not be silent: a refused port, an HTTP error on the upgrade, a node
 * that closes before its welcome. Each failed attempt is one `error` event (CONNECT_FAILED) naming the URL,
 * the cause, the close code or HTTP status, and the delay before the next try; the client keeps retrying.
 * A URL that can never work is a programming error, refused by createClient at once.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createClient, ErrorCode, type LifelineError, type WebSocketConstructor } from '@lifeline/sdk'
import WebSocket from 'ws'
import { waitFor } from './support/wait.js'

const NodeWebSocket = WebSocket as unknown as WebSocketConstructor
const cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

/** An HTTP server that answers every upgrade with `status`, counting the attempts. */
async function refusingServer(status: number): Promise<{ url: string; attempts: () => number }> {
  let attempts = 0
  const server: Server = createServer((_req, res) => res.writeHead(404).end())
  server.on('upgrade', (_req, socket) => {
    attempts += 1
    socket.end(`HTTP/1.1 ${status} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())))
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, attempts: () => attempts }
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as AddressInfo).port
  await new Promise<void>((r) => server.close(() => r()))
  return port
}

function client(url: string) {
  const c = createClient({ url, WebSocket: NodeWebSocket, backoff: { minMs: 20, maxMs: 40 } })
  const errors: LifelineError[] = []
  c.on('error', (e) => errors.push(e))
  cleanup.push(() => c.close())
  return { c, errors }
}

describe('connection failures are reported, once per attempt', () => {
  it('a refused port: CONNECT_FAILED with the URL, the cause and the next delay', async () => {
    const url = `ws://127.0.0.1:${await freePort()}`
    const { c, errors } = client(url)
    await waitFor(() => errors.length >= 3, 'three failed attempts reported')
    expect(c.state).toBe('connecting')
    for (const e of errors) {
      expect(e).toMatchObject({ code: ErrorCode.CONNECT_FAILED, url })
      expect(e.cause).toMatch(/ECONNREFUSED/)
      expect(typeof e.closeCode).toBe('number')
      expect(e.retryInMs).toBeGreaterThanOrEqual(0)
      expect(e.retryInMs).toBeLessThanOrEqual(40)
    }
    console.log(`[connect-failure] refused: ${errors.length} events, first: ${errors[0]!.message}`)
  })

  for (const status of [502, 503]) {
    it(`HTTP ${status} on the upgrade: CONNECT_FAILED with status ${status}, one event per attempt`, async () => {
      const srv = await refusingServer(status)
      const { errors } = client(srv.url)
      await waitFor(() => errors.length >= 3, 'three failed attempts reported')
      await c2close()
      // Every attempt the server saw was reported, and nothing else was.
      expect(errors.length).toBeGreaterThanOrEqual(srv.attempts() - 1)
      expect(errors.length).toBeLessThanOrEqual(srv.attempts())
      for (const e of errors) expect(e).toMatchObject({ code: ErrorCode.CONNECT_FAILED, url: srv.url, status })
      console.log(`[connect-failure] HTTP ${status}: ${errors.length} events for ${srv.attempts()} attempts, first: ${errors[0]!.message}`)
    })
  }
  /** Stops the client of the current test so the attempt count is final. */
  async function c2close(): Promise<void> {
    for (const f of cleanup.splice(-1)) await f()
  }
})

describe('a URL that can never work is refused by createClient', () => {
  it('says what is missing or wrong, naming the value', () => {
    expect(() => createClient({} as never)).toThrow(/url.*required/i)
    expect(() => createClient({ url: 'ftp://example.com', WebSocket: NodeWebSocket })).toThrow(/ftp:\/\/example\.com.*ws:/)
    expect(() => createClient({ url: 'not a url', WebSocket: NodeWebSocket })).toThrow(/not a url/)
    expect(() => createClient({ url: ['ws://ok.example', ''], WebSocket: NodeWebSocket })).toThrow(TypeError)
  })
})

describe('closing while the upgrade is still under way', () => {
  // ws emits 'error' for a socket closed while CONNECTING; with no listener left, Node throws it from nextTick:
  // on Node an app calling close() (or a reconnect) mid-handshake took its whole process down.
  it('close() during the handshake throws nothing, in or out of the call', async () => {
    const held: Socket[] = []
    const server: Server = createServer()
    server.on('upgrade', (_req, socket: Socket) => void held.push(socket)) // never answered: the handshake stays open
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    cleanup.push(() => new Promise<void>((r) => (held.forEach((s) => s.destroy()), server.close(() => r()))))
    const uncaught: unknown[] = []
    const onUncaught = (e: unknown): void => void uncaught.push(e)
    process.on('uncaughtException', onUncaught)
    cleanup.push(() => void process.off('uncaughtException', onUncaught))
    const client = createClient({ url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, WebSocket: NodeWebSocket })
    await waitFor(() => held.length === 1, 'the upgrade request to arrive')
    await client.close()
    await new Promise((r) => setTimeout(r, 50)) // ws reports the abort on a later tick
    console.log(`[connect-failure] close during handshake: ${uncaught.length} uncaught`)
    expect(uncaught.map(String)).toEqual([])
  })
})
