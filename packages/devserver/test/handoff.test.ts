/**
 * The balancer hands each upgraded connection to its node process (balancer/handoff.ts) instead of proxying
 * it: the node talks to the client over the client's own TCP connection. Real node processes (run `npm run
 * build` first). Linux: connections are counted in /proc/net/tcp.
 */
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, type Cluster } from '../src/cluster/index.js'
import { createNode } from '../src/node/node.js'
import { RawClient } from './fixtures/raw-client.js'
import { waitFor } from './support/wait.js'

/** Established TCP connections to `port` on loopback (either end), from the kernel's own table. */
function establishedTo(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0')
  let n = 0
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const [, , remote, state] = line.trim().split(/\s+/)
      if (state === '01' && remote?.endsWith(`:${hex}`)) n++
    }
  }
  return n
}

describe.each(['handoff', 'proxy'] as const)('routing: %s', (routing) => {
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, port: 0, routing })
  })
  afterAll(async () => {
    await cluster?.stop()
  })

  it(routing === 'handoff' ? 'no connection from the balancer to a node: the node has the client’s socket' : 'one connection from the balancer to the node per client', async () => {
    const clients = await Promise.all(Array.from({ length: 4 }, () => RawClient.welcomed(cluster.url)))
    try {
      const toNodes = cluster.nodes.reduce((sum, n) => sum + establishedTo(n.port ?? 0), 0)
      console.log(`${routing}: 4 clients, ${toNodes} established connections to node ports`)
      expect(toNodes).toBe(routing === 'handoff' ? 0 : 4)
      // Routing still knows where each session is, from the node's report rather than a sniffed welcome.
      for (const c of clients) expect(cluster.nodeOf(c.welcome.session.id)).toBe(c.welcome.node)
      // The client's frames reach the node and back.
      const a = clients[0]!
      a.send({ t: 'ping' })
      await a.next((f) => f.t === 'pong')
    } finally {
      for (const c of clients) c.close()
    }
  })

  it('stop() with clients connected resolves (the balancer waits for its own copies only)', async () => {
    const local = await startCluster({ nodes: 1, port: 0, routing })
    const c = await RawClient.welcomed(local.url)
    const t0 = Date.now()
    await local.stop()
    await c.closed
    expect(Date.now() - t0).toBeLessThan(10_000)
  })
})

describe('LifelineNode.adopt', () => {
  it('refuses while draining and writes nothing, so the sender can route the connection elsewhere', async () => {
    const node = await createNode({ port: 0 })
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve))
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
    const received: Buffer[] = []
    client.on('data', (d) => received.push(d))
    const closed = new Promise((resolve) => client.once('close', resolve))
    const socket = await accepted
    await node.drain()
    const head = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')
    expect(node.adopt(socket, head)).toBe(false)
    await closed // in one process this was the only descriptor; across processes the sender's copy stays
    expect(Buffer.concat(received).length).toBe(0)
    await node.close()
    server.close()
  })

  it('serves an adopted connection like one of its own, and reports its session and its close', async () => {
    const node = await createNode({ port: 0 })
    const server = net.createServer({ pauseOnConnect: true })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const events: string[] = []
    server.on('connection', (socket) => {
      // What the balancer does: read the upgrade request, then hand over the socket with those bytes.
      socket.resume()
      socket.once('data', (head) => {
        socket.pause()
        node.adopt(socket, head, { identified: (s) => events.push(`identified ${s}`), closed: () => events.push('closed') })
      })
    })
    const c = await RawClient.welcomed(`ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`)
    expect(events).toEqual([`identified ${c.welcome.session.id}`])
    c.close()
    await waitFor(() => events.includes('closed'), 'the adopted socket’s close to be reported')
    await node.close()
    server.close()
  })
})
