/**
 * The deployment of docs/deployment.md, for real: HAProxy running examples/haproxy/haproxy.cfg in front of
 * three standalone node processes (`dist/node/main.js --store redis://…`) sharing a real redis-server.
 * Checks the config's routing (sticky on `sid`, round robin without it), then SIGKILLs the busiest node under
 * load and counts, in both directions: 0 lost, 0 duplicated, 0 out of order.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { countsLine } from './support/ledger.js'
import { Load, timing } from './support/load.js'
import { startHaproxy, startStandaloneNode, type Haproxy, type StandaloneNode } from './support/haproxy.js'
import { startRedisServer, type RedisServer } from './support/redis-server.js'

let redis: RedisServer
let nodes: StandaloneNode[] = []
let haproxy: Haproxy
let load: Load | undefined

beforeAll(async () => {
  redis = await startRedisServer()
  nodes = await Promise.all(['h1', 'h2', 'h3'].map((id) => startStandaloneNode(id, redis.url, 'haproxy-test-secret')))
  haproxy = await startHaproxy(nodes.map((n) => n.address))
})
afterAll(async () => {
  await load?.close()
  await haproxy?.stop()
  await Promise.all(nodes.map((n) => n.stop()))
  await redis?.close()
})

/** GET /healthz through HAProxy: the body names the node that answered. */
async function nodeBehind(query: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${haproxy.port}/healthz${query}`)
  return ((await res.json()) as { id: string }).id
}

async function connectionsOf(node: StandaloneNode): Promise<number> {
  const res = await fetch(`http://${node.address}/healthz`)
  return ((await res.json()) as { connections: number }).connections
}

it('routes the same sid to the same node, and spreads requests without one', async () => {
  for (const sid of ['alpha', 'beta', 'gamma', 'delta']) {
    const seen = new Set<string>()
    for (let i = 0; i < 5; i++) seen.add(await nodeBehind(`?sid=${sid}`))
    expect(seen.size, `sid=${sid} went to ${[...seen].join(', ')}`).toBe(1)
  }
  // Without a sid: round robin over the hash ring, locally clumpy (runs of 2–3 seen), even over many.
  const spread = new Map<string, number>()
  for (let i = 0; i < 30; i++) {
    const id = await nodeBehind('')
    spread.set(id, (spread.get(id) ?? 0) + 1)
  }
  expect([...spread.keys()].sort()).toEqual(nodes.map((n) => n.id).sort())
})

it('survives SIGKILL of the busiest node under load: 0 lost, 0 duplicated, 0 out of order', async () => {
  const topic = 'haproxy-failover'
  load = new Load({ url: haproxy.url, topic, clients: 6, messages: 150, intervalMs: 20 })
  await load.connect()
  const perNode = await Promise.all(nodes.map(connectionsOf))
  const victim = nodes[perNode.indexOf(Math.max(...perNode))]!
  let killedAt = 0
  await load.run((tick) => {
    if (tick === 50) {
      killedAt = Date.now()
      void victim.stop('SIGKILL')
    }
  })
  const counts = await load.settle(20_000)
  const moved = load.recoveryTimes(killedAt)
  console.log(countsLine('haproxy-sigkill', counts, {
    victim: victim.id,
    clientsOnVictim: perNode[nodes.indexOf(victim)]!,
    resumed: timing(moved),
    failures: load.failures.length,
  }))
  expect(moved.length).toBeGreaterThanOrEqual(perNode[nodes.indexOf(victim)]!)
  expect(load.failures).toEqual([])
  expect(counts).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, gaps: 0, resets: 0 })
  expect(counts.received).toBe(counts.expected)
})
