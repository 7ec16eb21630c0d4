/**
 * Network faults: 300 ms latency ± 100 ms jitter on every node's client links (cluster.impair), under load with
 * Node SDK clients through the balancer. Exactly once must hold both ways (a slow link is not a lossy one), the
 * impairment must really be there (an ack takes at least one delayed round trip), and the throughput is printed.
 * Real processes: run `npm run build` first.
 */
import { describe, expect, it } from 'vitest'
import { expectNothingLost } from './support/expect.js'
import { useFaultCluster } from './support/fault-cluster.js'
import { timing } from './support/load.js'

const LATENCY_MS = 300
const JITTER_MS = 100

const faults = useFaultCluster()

describe('latency and jitter', () => {
  it(`${LATENCY_MS} ms ± ${JITTER_MS} ms on every node under load: exactly once holds; throughput printed`, async () => {
    const { cluster } = faults
    for (const node of cluster.nodes) await cluster.impair(node.id, { latencyMs: LATENCY_MS, jitterMs: JITTER_MS })
    expect(cluster.nodes.map((n) => n.impairment)).toEqual(cluster.nodes.map(() => ({ latencyMs: LATENCY_MS, jitterMs: JITTER_MS })))
    const load = await faults.startLoad({ clients: 4, messages: 150 })

    // The impairment is real: a publish's ack is a round trip, each way at least latency − jitter late.
    const probe = load.clients[0]!.client
    const rtts: number[] = []
    for (let i = 0; i < 5; i++) {
      const t = Date.now()
      await probe.publish('latency-probe', { i })
      rtts.push(Date.now() - t)
    }

    const started = Date.now()
    await load.run()
    await load.settle(30_000)
    const seconds = (Date.now() - started) / 1000
    const counts = load.counts()
    expectNothingLost('latency+jitter', load, {
      latency: `${LATENCY_MS}±${JITTER_MS}ms`,
      ackRtt: timing(rtts),
      deliveredPerSec: Math.round(counts.received / seconds),
      // The load is paced (support/load.ts): the figure says whether the delayed links kept up with it.
      offered: '4 clients × 50 publishes + 50 sends a second',
      seconds: seconds.toFixed(1),
    })
    expect(Math.min(...rtts)).toBeGreaterThanOrEqual(2 * (LATENCY_MS - JITTER_MS))
    const actions = cluster.events.list().filter((e) => e.kind === 'action' && e.detail?.action === 'impair')
    expect(actions.map((e) => e.node)).toEqual(cluster.nodes.map((n) => n.id))

    // Healed: the next round trip is fast again, and nothing was held back.
    await cluster.heal()
    expect(cluster.faults).toEqual({ nodes: {}, sessions: {} })
    const t = Date.now()
    await probe.publish('latency-probe', { healed: true })
    const healedRtt = Date.now() - t
    console.log(`[latency+jitter] healed: ack round trip ${healedRtt} ms`)
    expect(healedRtt).toBeLessThan(2 * (LATENCY_MS - JITTER_MS))
  })
})
