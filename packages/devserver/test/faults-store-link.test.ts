/**
 * Network faults: a node cut from its store (cluster.impair(node, { store: { blackhole: true } })) while it keeps
 * its clients, under load with Node SDK clients through the balancer. The node cannot apply anything, so it must
 * acknowledge nothing: its store calls time out (the IPC store's 5 s), its clients get STORE_UNAVAILABLE and keep
 * their sends in their outboxes. Healed, what the link held reaches the store, the clients resume and resend, and
 * every message lands exactly once. Counted both ways. Run `npm run build` first.
 */
import { describe, expect, it } from 'vitest'
import { CountingStore } from './support/counting-store.js'
import { expectNothingLost } from './support/expect.js'
import { busiestNode, clientsOn, sidOf, useFaultCluster } from './support/fault-cluster.js'
import { timing } from './support/load.js'
import { waitFor } from './support/wait.js'
import { isAck, RawClient } from './fixtures/raw-client.js'

/** How long a node's store call waits before it gives up (store/ipc-client.ts timeoutMs default). */
const STORE_TIMEOUT_MS = 5_000

const store = new CountingStore()
const faults = useFaultCluster({ store })

describe('store link', () => {
  it('a node cut from its store stops acknowledging (STORE_UNAVAILABLE), its clients lose nothing, and it recovers when healed', async () => {
    const { cluster } = faults
    const load = await faults.startLoad({ clients: 6, messages: 450 })
    const victim = busiestNode(cluster)
    const onVictim = clientsOn(cluster, load.clients, victim)
    expect(onVictim.length).toBeGreaterThan(0)
    const unavailable = new Map<string, number>()
    for (const c of load.clients) {
      c.client.on('error', ({ code }) => {
        if (code === 'STORE_UNAVAILABLE' && !unavailable.has(c.name)) unavailable.set(c.name, Date.now())
      })
    }
    let cutAt = 0
    let healedAt = 0
    let probeAckedAt = 0
    let fault: Promise<void> | undefined
    await load.run((tick) => {
      if (tick !== 40) return
      fault = (async () => {
        cutAt = Date.now()
        await cluster.impair(victim, { store: { blackhole: true } })
        expect(cluster.nodes.find((n) => n.id === victim)?.impairment).toEqual({ store: { blackhole: true } })
        // A write issued after the cut: it cannot be acknowledged until the link heals.
        const probe = onVictim[0]!.client.publish('store-probe', { after: 'cut' }).then(() => void (probeAckedAt = Date.now()))
        await waitFor(() => onVictim.every((c) => unavailable.has(c.name)), 'every client of the cut node to get STORE_UNAVAILABLE', STORE_TIMEOUT_MS + 10_000)
        expect(probeAckedAt).toBe(0)
        healedAt = Date.now()
        await cluster.heal(victim)
        await probe
      })()
    })
    await fault
    await load.settle(30_000)
    const told = [...unavailable.values()].map((t) => t - cutAt)
    const outages = load.outages(cutAt)
    expectNothingLost('store cut', load, {
      victim,
      clientsOnIt: onVictim.length,
      storeUnavailableAfter: timing(told),
      healedAfterMs: healedAt - cutAt,
      probeAckedAfterHealMs: probeAckedAt - healedAt,
      resumedIn: timing(outages.map((o) => o.downMs)),
      duplicateResends: store.duplicates,
    })
    // Only the cut node's clients were told, and not before its store calls could time out.
    expect([...unavailable.keys()].sort()).toEqual(onVictim.map((c) => c.name).sort())
    for (const t of told) expect(t).toBeGreaterThanOrEqual(STORE_TIMEOUT_MS - 100)
    expect(probeAckedAt).toBeGreaterThanOrEqual(healedAt)
    // The node kept serving (its health checks never failed), and it applies again: a write straight to it is acked.
    expect(cluster.events.list().filter((e) => e.kind === 'routing' && e.node === victim && e.detail?.health === 'down')).toEqual([])
    const direct = await RawClient.welcomed(`ws://127.0.0.1:${cluster.nodes.find((n) => n.id === victim)?.port}`, { subs: {} })
    const t = Date.now()
    direct.send({ t: 'pub', seq: 1, topic: 'store-healed', data: { n: 1 } })
    await direct.next(isAck(1), 5_000)
    console.log(`[store cut] healed ${victim} acknowledged a direct write in ${Date.now() - t} ms`)
    direct.close()
  })
})
