/** The supervisor with real node processes and real signals (run `npm run build` first: nodes run dist/). */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Welcome } from '@lifeline/protocol'
import { startCluster, type Cluster } from '../src/cluster/index.js'
import { healCluster } from '../src/testing/heal.js'
import { RawClient } from './fixtures/raw-client.js'
import { processAlive } from './support/processes.js'
import { waitFor } from './support/wait.js'

const SIZE = 3
let cluster: Cluster
const clients: RawClient[] = []
const status = (id: string): string | undefined => cluster.nodes.find((n) => n.id === id)?.status
/** A raw client through the balancer (resuming `sid`'s session if given), welcomed; closed after the test. */
const welcomed = async (sid?: string): Promise<RawClient & { welcome: Welcome }> => {
  const c = await RawClient.welcomed(cluster.url, { sid })
  clients.push(c)
  return c
}

// One cluster for the file: starting node processes costs seconds. Each test kills, drains, freezes or adds
// nodes, so before each one it is put back as it started (n1–n3, all up) and no test depends on another's leftovers.
beforeAll(async () => {
  cluster = await startCluster({ nodes: SIZE, port: 0, store: 'memory' })
})
afterAll(async () => {
  await cluster?.stop()
})

describe('startCluster', () => {
  beforeEach(async () => {
    for (const extra of cluster.nodes.slice(SIZE)) await cluster.removeNode(extra.id)
    await healCluster(cluster, SIZE)
  })
  afterEach(() => {
    for (const c of clients.splice(0)) c.close()
  })

  it('starts every node up, behind one balancer URL', () => {
    expect(cluster.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
    expect(cluster.nodes.map((n) => [n.id, n.status])).toEqual([['n1', 'up'], ['n2', 'up'], ['n3', 'up']])
    for (const n of cluster.nodes) {
      expect(processAlive(n.pid)).toBe(true)
      expect(n.port).toBeGreaterThan(0)
    }
  })

  it('nodeOf names the node a session is on, from the first connection on', async () => {
    const a = await welcomed()
    const { session, node } = a.welcome
    expect(cluster.nodeOf(session.id)).toBe(node)
    expect(cluster.nodes.find((n) => n.id === node)?.connections).toBeGreaterThanOrEqual(1)
    a.ws.close()
    await a.closed
    await waitFor(() => cluster.nodeOf(session.id) === undefined, 'the closed session to be forgotten')
  })

  it('kill: a real SIGKILL; the node’s clients are disconnected within milliseconds', async () => {
    const before = await Promise.all(Array.from({ length: 6 }, () => welcomed()))
    const victim = before[0]?.welcome.node as string
    const pid = cluster.nodes.find((n) => n.id === victim)?.pid
    const t0 = Date.now()
    await cluster.kill(victim)
    expect(processAlive(pid)).toBe(false)
    expect(status(victim)).toBe('dead')
    const onVictim = before.filter((s) => s.welcome.node === victim)
    await Promise.all(onVictim.map((s) => s.closed))
    const delays = onVictim.map((s) => (s.closedAt as number) - t0)
    console.log(`[cluster kill] ${onVictim.length} sockets closed ${delays.join(', ')} ms after the kill`)
    for (const d of delays) expect(d).toBeLessThan(500)
    const after = await welcomed()
    expect(after.welcome.node).not.toBe(victim)
  })

  it('restart brings a dead node back with the same id and a new pid', async () => {
    await cluster.kill('n3')
    const dead = cluster.nodes.find((n) => n.status === 'dead')
    expect(dead).toBeDefined()
    const node = await cluster.restart(dead?.id as string)
    expect(node.id).toBe(dead?.id)
    expect(node.pid).not.toBe(dead?.pid)
    expect(node.status).toBe('up')
  })

  it('drain: clients get 1012, the node exits, new sessions go elsewhere', async () => {
    const sessions = await Promise.all(Array.from({ length: 6 }, () => welcomed()))
    const victim = sessions[0]?.welcome.node as string
    await cluster.drain(victim)
    expect(status(victim)).toBe('dead')
    for (const s of sessions.filter((x) => x.welcome.node === victim)) expect((await s.closed).code).toBe(1012)
    for (let i = 0; i < 4; i++) expect((await welcomed()).welcome.node).not.toBe(victim)
  })

  it('freeze: the health check takes the node out in a few seconds; thaw: it comes back', async () => {
    const s = await welcomed()
    const { session, node } = s.welcome
    const t0 = Date.now()
    await cluster.freeze(node)
    expect(status(node)).toBe('frozen')
    await s.closed // the balancer closes a down node's sockets (closeOnDown)
    const closedAfter = (s.closedAt as number) - t0
    console.log(`[cluster freeze] frozen node's socket closed after ${closedAfter} ms`)
    expect(closedAfter).toBeLessThan(5000) // ~2–3 s: two 1 s probe timeouts; the clients' heartbeat is 5 s
    expect((await welcomed(session.id)).welcome.node).not.toBe(node)
    await cluster.thaw(node)
    await waitFor(() => status(node) === 'up', `${node} up again after thaw`, 5000)
  })

  it('two restarts of one node at once start one process, not two', async () => {
    const old = cluster.nodes.find((n) => n.id === 'n2')?.pid
    const [a, b] = await Promise.all([cluster.restart('n2'), cluster.restart('n2')])
    expect(a.pid).toBe(b.pid)
    expect(a.pid).not.toBe(old)
    expect(processAlive(old)).toBe(false)
    expect(cluster.nodes.filter((n) => n.status === 'up')).toHaveLength(3)
  })

  it('addNode and removeNode', async () => {
    const added = await cluster.addNode()
    expect(added).toMatchObject({ id: 'n4', status: 'up' })
    await cluster.removeNode(added.id)
    expect(cluster.nodes.map((n) => n.id)).toEqual(['n1', 'n2', 'n3'])
    expect(processAlive(added.pid)).toBe(false)
    await expect(cluster.kill('n4')).rejects.toMatchObject({ code: 'NODE_NOT_FOUND' })
  })
})

describe('stop and restart-on-crash', () => {
  it('restart: true brings a crashed node back by itself; stop leaves nothing running', async () => {
    const own = await startCluster({ nodes: 2, restart: true })
    const before = own.nodes[0]
    await own.kill('n1')
    await waitFor(() => own.nodes[0]?.status === 'up' && own.nodes[0]?.pid !== before?.pid, 'n1 restarted', 10_000)
    const pids = own.nodes.map((n) => n.pid)
    const url = own.url
    await own.stop()
    for (const pid of pids) expect(processAlive(pid)).toBe(false)
    await expect(RawClient.connect(url)).rejects.toThrow()
    await expect(own.addNode()).rejects.toMatchObject({ code: 'CLUSTER_STOPPED' })
  })
})
