/** The balancer on real sockets, against in-process fake nodes: routing, health checks, closing sockets at once. */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { Welcome } from '@lifeline/protocol'
import { createBalancer, type Balancer, type BackendChange } from '../src/balancer/index.js'
import { RawClient } from './fixtures/raw-client.js'
import { startFakeNode, type FakeNode } from './support/fake-node.js'
import { nextEvent } from './support/wait.js'

let balancer: Balancer | undefined
let nodes: FakeNode[] = []
const clients: RawClient[] = []

afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await balancer?.close()
  await Promise.all(nodes.map((n) => n.close()))
  nodes = []
})

/** Probes out of the picture unless a test is about them (a loaded machine can make any short timeout fire). */
const NO_PROBES = { intervalMs: 60_000, timeoutMs: 1000 }

async function setup(count: number, health = NO_PROBES): Promise<Balancer> {
  nodes = await Promise.all(Array.from({ length: count }, (_, i) => startFakeNode(`n${i + 1}`)))
  balancer = await createBalancer({ health })
  for (const n of nodes) balancer.add({ id: n.id, host: '127.0.0.1', port: n.port })
  return balancer
}

/** Opens a raw client through the balancer; resolves with its socket and the welcome a fake node greets it with. */
async function connect(b: Balancer, sid?: string): Promise<{ ws: WebSocket; node: string; session: string }> {
  const client = await RawClient.connect(b.url, { sid })
  clients.push(client)
  const welcome = await client.next<Welcome>((f) => f.t === 'welcome')
  return { ws: client.ws, node: welcome.node, session: welcome.session.id }
}

describe('balancer proxy', () => {
  it('spreads new sessions evenly and routes a sid to its rendezvous node; nodeOf follows the welcome', async () => {
    const b = await setup(3)
    const fresh = await Promise.all(Array.from({ length: 9 }, () => connect(b)))
    expect(b.backends().map((n) => n.connections)).toEqual([3, 3, 3])
    for (const c of fresh) expect(b.nodeOf(c.session)).toBe(c.node)
    const sticky = await connect(b, 'sticky-1')
    expect(sticky.node).toBe(b.route('sticky-1'))
    expect((await connect(b, 'sticky-1')).node).toBe(sticky.node)
  })

  it('marks a node down after 2 failed probes and up after 1 success', async () => {
    const b = await setup(2, { intervalMs: 50, timeoutMs: 1000 }) // a 503 answers at once: no timeout involved
    const changes: BackendChange[] = []
    b.on('change', (c) => changes.push(c))
    const n1 = nodes[0] as FakeNode
    n1.health = 'fail'
    const probesAtFail = n1.probes
    await nextEvent<BackendChange>(b, 'change', (c) => c.id === 'n1' && c.health === 'down')
    expect(n1.probes - probesAtFail).toBeGreaterThanOrEqual(2)
    expect(b.route(undefined)).toBe('n2')
    n1.health = 'ok'
    const probesAtOk = n1.probes
    await nextEvent<BackendChange>(b, 'change', (c) => c.id === 'n1' && c.health === 'up')
    expect(n1.probes - probesAtOk).toBe(1)
    expect(changes.map((c) => c.health)).toEqual(['down', 'up'])
  })

  it('takes a frozen node (probe hangs) out within about two intervals and closes its sockets', async () => {
    const b = await setup(2, { intervalMs: 100, timeoutMs: 150 })
    const c = await connect(b, 'frozen-victim')
    const closed = new Promise<number>((resolve) => c.ws.once('close', () => resolve(Date.now())))
    const frozenAt = Date.now()
    ;(nodes.find((n) => n.id === c.node) as FakeNode).health = 'hang'
    const change = await nextEvent<BackendChange>(b, 'change', (x) => x.id === c.node && x.health === 'down')
    expect(change.closed).toBe(1)
    expect((await closed) - frozenAt).toBeLessThan(2000) // ~2 × (interval + timeout) on an idle machine
  })

  it('a node reporting draining leaves routing at once and keeps its sockets', async () => {
    const b = await setup(2, { intervalMs: 50, timeoutMs: 1000 })
    const c = await connect(b, 'drain-victim')
    ;(nodes.find((n) => n.id === c.node) as FakeNode).health = 'draining'
    await nextEvent<BackendChange>(b, 'change', (x) => x.id === c.node && x.draining)
    expect(b.route('drain-victim')).not.toBe(c.node)
    expect(c.ws.readyState).toBe(WebSocket.OPEN)
  })

  it('a draining node that stops listening goes down without its sockets being cut (it closes them itself)', async () => {
    const b = await setup(2, { intervalMs: 50, timeoutMs: 1000 })
    const c = await connect(b, 'drain-quietly')
    const node = nodes.find((n) => n.id === c.node) as FakeNode
    node.health = 'draining'
    await nextEvent<BackendChange>(b, 'change', (x) => x.id === c.node && x.draining)
    void node.stopListening() // resolves once its last socket is gone, at cleanup
    const down = await nextEvent<BackendChange>(b, 'change', (x) => x.id === c.node && x.health === 'down')
    expect(down.closed).toBe(0)
    expect(c.ws.readyState).toBe(WebSocket.OPEN)
  })

  it('closes a dead node’s proxied sockets at once, though the node never closed them', async () => {
    const b = await setup(3)
    const conns = await Promise.all(Array.from({ length: 6 }, () => connect(b)))
    const victims = conns.filter((c) => c.node === 'n2')
    expect(victims).toHaveLength(2)
    const closedAt = victims.map((v) => new Promise<number>((resolve) => v.ws.once('close', () => resolve(Date.now()))))
    const t0 = Date.now()
    b.down('n2', 'process exited')
    const times = await Promise.all(closedAt)
    console.log(`dead node sockets closed after ${times.map((t) => t - t0).join(', ')} ms`)
    for (const t of times) expect(t - t0).toBeLessThan(100)
    for (const c of conns) if (c.node !== 'n2') expect(c.ws.readyState).toBe(WebSocket.OPEN)
  })

  it('a refused connection takes the node out at once and the client lands on another', async () => {
    const b = await setup(2)
    const sid = 'refused-1'
    const target = b.route(sid) as string
    await (nodes.find((n) => n.id === target) as FakeNode).close()
    const c = await connect(b, sid)
    expect(c.node).not.toBe(target)
    expect(b.backends().find((n) => n.id === target)?.routable).toBe(false)
  })

  it('a node refusing the upgrade with 503 (draining) is taken out and the client lands on another', async () => {
    const b = await setup(2)
    const sid = 'raced-a-drain'
    const target = b.route(sid) as string
    ;(nodes.find((n) => n.id === target) as FakeNode).refuseUpgrades = true
    const c = await connect(b, sid)
    expect(c.node).not.toBe(target)
    expect(b.backends().find((n) => n.id === target)).toMatchObject({ draining: true, routable: false })
  })

  it('answers 503 when no node is routable', async () => {
    const b = await setup(1)
    b.down('n1', 'test')
    await expect(RawClient.connect(b.url)).rejects.toThrow('Unexpected server response: 503')
  })
})
