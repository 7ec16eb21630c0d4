/**
 * Deploy faults with Node SDK clients: a drain (SIGTERM → 1012 → reconnect at once) and a rolling restart of
 * every node, under load, counted in both directions. Run `npm run build` first.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, type Cluster } from '../src/cluster/index.js'
import { busiestNode, healCluster } from './support/heal.js'
import { expectNothingLost } from './support/expect.js'
import { startLoad, timing, type Load } from './support/load.js'

let cluster: Cluster
let load: Load | undefined

beforeAll(async () => {
  cluster = await startCluster({ nodes: 3 })
})
afterEach(async () => {
  await load?.close()
  load = undefined
  await healCluster(cluster)
})
afterAll(() => cluster?.stop())

describe('deploys', () => {
  it('drain under load: clients reconnect at once (1012, no backoff) and lose nothing', async () => {
    // A 20 s backoff window: a client that waited for backoff instead of reconnecting at once on 1012 would
    // almost surely (p > 0.97 for two clients) be away for more than 3 s, so the bound below can fail.
    load = await startLoad({ url: cluster.url, clients: 6, messages: 150, clientOptions: { backoff: { minMs: 20_000, maxMs: 30_000 } } })
    const victim = busiestNode(cluster)
    const onVictim = load.clients.filter((c) => cluster.nodeOf(c.client.sessionId as string) === victim)
    let drainedAt = 0
    let drained: Promise<void> | undefined
    await load.run((tick) => {
      if (tick === 50) {
        drainedAt = Date.now()
        drained = cluster.drain(victim)
      }
    })
    await drained
    await load.settle()
    const outages = load.outages(drainedAt)
    expect(outages.length).toBeGreaterThanOrEqual(onVictim.length)
    for (const c of onVictim) expect(cluster.nodeOf(c.client.sessionId as string)).not.toBe(victim)
    const notice = outages.map((o) => o.leftAt)
    const down = outages.map((o) => o.downMs)
    expectNothingLost('drain', load, { victim, closedAfter: timing(notice), reconnectedIn: timing(down) })
    // 1012 means reconnect at once (no backoff): a resume is all the time a client is away. Generous bound (the
    // machine is shared; the printed figure is the measurement), far below the 20 s backoff window.
    expect(Math.max(...down)).toBeLessThan(3000)
  })

  it('rolling restart of every node under load', async () => {
    load = await startLoad({ url: cluster.url, clients: 4, messages: 1500 })
    const pids = cluster.nodes.map((n) => n.pid)
    let rolled: Promise<void> | undefined
    const startedAt = Date.now()
    const running = load.run((tick) => {
      if (tick === 20) rolled = cluster.rollingRestart()
    })
    await waitForValue(() => rolled)
    await rolled
    const rollMs = Date.now() - startedAt
    const stopAt = load.tick + 30 // keep publishing a little after the last node came back
    await waitForValue(() => load!.tick >= stopAt || undefined)
    load.stop()
    await running
    await load.settle()
    for (const [i, node] of cluster.nodes.entries()) {
      expect(node.status).toBe('up')
      expect(node.pid).not.toBe(pids[i])
    }
    expectNothingLost('rolling restart', load, { ticks: load.tick, rollMs })
  })
})

async function waitForValue<T>(get: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = get()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
