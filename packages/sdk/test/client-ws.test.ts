/**
 * The client on Node 20 with the `ws` package's WebSocket against a real `ws` server on 127.0.0.1:0 (no msw):
 * proves the partysocket transport, real close codes and real connection failures behave as the mocks do.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import type { AddressInfo } from 'node:net'
import { CloseCode, ErrorCode } from '@lifeline/protocol'
import { createClient, type LifelineClient } from '../src/index.js'
import { FakeServer, type WireClient } from './support/fake-server.js'
import { Ledger, range } from './support/ledger.js'

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

/** A FakeServer served by a real ws server; `kill(c, 1006)` becomes a TCP reset (terminate). */
async function realServer(name: string): Promise<FakeServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise((r) => wss.once('listening', r))
  const base = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`
  const srv = new FakeServer(name, `${base}/${name}`)
  wss.on('connection', (sock, req) => {
    const client: WireClient = {
      url: `${base}${req.url}`,
      send: (text) => sock.send(text),
      close: (code, reason) => (code === 1006 ? sock.terminate() : sock.close(code, reason)),
      addEventListener: (type, fn) =>
        type === 'message' ? sock.on('message', (d) => fn({ data: String(d) })) : sock.on('close', () => fn({})),
    }
    srv.accept(client)
  })
  cleanup.push(() => new Promise((r) => (srv.stop(), wss.clients.forEach((s) => s.terminate()), wss.close(r))))
  return srv
}

function client(url: string | string[]): LifelineClient {
  const c = createClient({ url, WebSocket, backoff: { minMs: 20, maxMs: 50 } })
  cleanup.push(() => c.close())
  return c
}

describe('client over real sockets (ws on Node 20)', () => {
  it('survives a TCP reset and a drain (1012) with every message once, in order, and every publish applied once', async () => {
    const srv = await realServer('real')
    const c = client(srv.url)
    const seen = new Ledger(c)
    await c.subscribe('feed')
    const sent = range(1, 30).map((i) => c.publish('feed', i))
    await seen.waitFor('feed', 10)
    srv.kill(srv.conn, 1006)
    await srv.welcomed(2)
    srv.kill(srv.conn, CloseCode.SERVICE_RESTART, 'deploy')
    await srv.welcomed(3)
    for (const i of range(31, 40)) srv.publish('feed', i)
    await Promise.all(sent)
    await seen.waitFor('feed', 40)
    seen.exact('real sockets', 'feed', range(1, 40))
    const applied = [...srv.sessions.values()].flatMap((s) => s.applied.map((a) => a.data))
    expect(applied).toEqual(range(1, 30))
    expect(srv.sessions.size).toBe(1)
    expect(srv.maxOpen).toBe(1)
  })

  it('rotates past an unreachable URL to the next one', async () => {
    const srv = await realServer('fallback')
    const dead = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    await new Promise((r) => dead.once('listening', r))
    const deadUrl = `ws://127.0.0.1:${(dead.address() as AddressInfo).port}/`
    await new Promise((r) => dead.close(r)) // the port now refuses connections
    const c = client([deadUrl, srv.url])
    await c.subscribe('t')
    expect(c.state).toBe('open')
    expect(srv.conns).toHaveLength(1)
  })

  it('a URL the WebSocket constructor rejects fails that attempt only (reported, no throw); the next URL works', async () => {
    const srv = await realServer('badurl')
    // A valid URL that `ws` refuses (WebSockets have no fragments): the constructor throws.
    const c = client(['ws://127.0.0.1:1/#fragment', srv.url])
    const seen = new Ledger(c)
    await c.subscribe('t')
    expect(c.state).toBe('open')
    expect(srv.conns).toHaveLength(1)
    expect(seen.states).toEqual(['open'])
    expect(seen.errors.map((e) => [e.code, e.url])).toEqual([[ErrorCode.CONNECT_FAILED, 'ws://127.0.0.1:1/#fragment']])
  })

  it('4401 from the server stops the client with CONNECTION_REFUSED and rejects what was pending', async () => {
    const srv = await realServer('refuse')
    const c = client(srv.url)
    const seen = new Ledger(c)
    await srv.welcomed(1)
    srv.hooks.op = () => 'drop'
    const p = c.publish('t', 1)
    srv.kill(srv.conn, CloseCode.UNAUTHORIZED, 'token expired')
    await expect(p).rejects.toMatchObject({ code: ErrorCode.CONNECTION_REFUSED })
    expect(c.state).toBe('closed')
    expect(seen.errors.map((e) => [e.code, e.closeCode])).toEqual([[ErrorCode.CONNECTION_REFUSED, 4401]])
  })
})
