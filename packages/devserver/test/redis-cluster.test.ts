/**
 * `lifeline dev --store redis://…`: the local cluster (supervisor, balancer, node processes) with every node
 * on a real Redis instead of the supervisor's memory store. SIGKILL one node under load; 0 lost, 0 duplicated,
 * 0 out of order.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startCluster, type Cluster } from '../src/index.js'
import { requireBuilt } from './fixtures/built.js'
import { countsLine } from '../src/testing/ledger.js'
import { Load, timing } from './support/load.js'
import { startRedisServer, type RedisServer } from './support/redis-server.js'

let redis: RedisServer
let cluster: Cluster
let load: Load | undefined

beforeAll(async () => {
  requireBuilt()
  redis = await startRedisServer()
  cluster = await startCluster({ nodes: 2, port: 0, store: redis.url })
})
afterAll(async () => {
  await load?.close()
  await cluster?.stop()
  await redis?.close()
})

it('runs the dev cluster on Redis and survives a node SIGKILL', async () => {
  load = new Load({ url: cluster.url, topic: 'redis-cluster', clients: 4, messages: 100, intervalMs: 20 })
  await load.connect()
  const victim = [...cluster.nodes].sort((a, b) => b.connections - a.connections)[0]!
  let killedAt = 0
  await load.run((tick) => {
    if (tick === 30) {
      killedAt = Date.now()
      void cluster.kill(victim.id)
    }
  })
  const counts = await load.settle(20_000)
  console.log(countsLine('redis-cluster-sigkill', counts, {
    victim: victim.id, resumed: timing(load.recoveryTimes(killedAt)), failures: load.failures.length,
  }))
  expect(load.failures).toEqual([])
  expect(counts).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, gaps: 0, resets: 0 })
  expect(counts.received).toBe(counts.expected)
})
