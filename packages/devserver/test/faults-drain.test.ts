/**
 * Deploy faults with Node SDK clients: a drain (SIGTERM → 1012 → reconnect at once) and a rolling restart of
 * every node, under load, counted in both directions. Run `npm run build` first.
 */
import { describe, expect, it } from 'vitest'
import { expectNothingLost } from './support/expect.js'
import { useFaultCluster } from './support/fault-cluster.js'
import { timing } from './support/load.js'
import { waitFor } from './support/wait.js'

const faults = useFaultCluster()

describe('deploys', () => {
  it('drain under load: clients reconnect at once (1012, no backoff) and lose nothing', async () => {
    const { cluster } = faults
    const load = await faults.startLoad({ clients: 5, messages: 150 })
    // One more client with a 20 s backoff window, and its node is the one drained: had it waited for backoff
    // instead of reconnecting at once on 1012, it would be away for more than 3 s (p = 0.85), so the bound below
    // can fail. Only this one has the long window, so an unrelated disconnect elsewhere cannot stall the test.
    const probe = load.newClient('c6', { backoff: { minMs: 20_000, maxMs: 30_000 } })
    load.clients.push(probe)
    await probe.client.subscribe('load')
    const victim = cluster.nodeOf(probe.client.sessionId as string) as string
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
    const probeOutage = outages.find((o) => o.name === probe.name)
    expect(probeOutage).toBeDefined()
    expect(cluster.nodeOf(probe.client.sessionId as string)).not.toBe(victim)
    expectNothingLost('drain', load, {
      victim,
      closedAfter: timing(outages.map((o) => o.leftAt)),
      reconnectedIn: timing(outages.map((o) => o.downMs)),
    })
    // 1012 means reconnect at once: a resume is all the time the client is away. Generous bound (the machine
    // is shared; the printed figure is the measurement), far below the 20 s backoff window.
    expect(probeOutage?.downMs).toBeLessThan(3000)
  })

  it('rolling restart of every node under load', async () => {
    const { cluster } = faults
    const load = await faults.startLoad({ clients: 4, messages: 1500 })
    const pids = cluster.nodes.map((n) => n.pid)
    let rolled: Promise<void> | undefined
    const startedAt = Date.now()
    const running = load.run((tick) => {
      if (tick === 20) rolled = cluster.rollingRestart()
    })
    await waitFor(() => rolled !== undefined, 'the rolling restart to begin (tick 20)', 30_000)
    await rolled
    const rollMs = Date.now() - startedAt
    const stopAt = load.tick + 30 // keep publishing a little after the last node came back
    await waitFor(() => load.tick >= stopAt, `the load to reach tick ${stopAt}`, 30_000)
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
