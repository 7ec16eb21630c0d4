/**
 * A frozen node (SIGSTOP: sockets half-open, nothing answers) under load with Node SDK clients: its clients move
 * to other nodes; past the heartbeat timeout it is thawed (SIGCONT) and wakes up holding the frames its clients
 * sent while it was stopped. Those are zombie writes for sessions that moved: the store must refuse them, so
 * no message is duplicated. Counted in both directions. Run `npm run build` first.
 */
import { describe, expect, it } from 'vitest'
import type { Subscribed } from '@lifeline/protocol'
import { RawClient } from './fixtures/raw-client.js'
import { CountingStore } from './support/counting-store.js'
import { expectNothingLost } from './support/expect.js'
import { useFaultCluster } from './support/fault-cluster.js'
import { timing } from './support/load.js'
import { waitFor } from './support/wait.js'

/** Short heartbeat so "past the heartbeat" is a short freeze; the defaults (2 s / 5 s) behave the same, slower. */
const HEARTBEAT_MS = 500
const TIMEOUT_MS = 1500

const store = new CountingStore()
const faults = useFaultCluster({ store, heartbeatMs: HEARTBEAT_MS, timeoutMs: TIMEOUT_MS })

describe('frozen node', () => {
  it('freeze past the heartbeat, then thaw: clients moved, zombie writes refused, no duplicates', async () => {
    const { cluster } = faults
    const load = await faults.startLoad({ clients: 4, messages: 200 })
    const target = load.clients[0]!
    const sid = (): string => target.client.sessionId as string
    const victim = cluster.nodeOf(sid()) as string
    let frozenAt = 0
    let fault: Promise<void> | undefined
    await load.run((tick) => {
      if (tick !== 40) return
      frozenAt = Date.now()
      fault = (async () => {
        await cluster.freeze(victim)
        await waitFor(() => cluster.nodeOf(sid()) !== undefined && cluster.nodeOf(sid()) !== victim, 'the client to move off the frozen node', 10_000)
        // The freeze must outlast the heartbeat timeout: that is the fault being simulated, not a wait for an event.
        const past = frozenAt + TIMEOUT_MS + HEARTBEAT_MS - Date.now()
        if (past > 0) await new Promise((resolve) => setTimeout(resolve, past))
        await cluster.thaw(victim)
      })()
    })
    await fault
    const movedAfter = load.outages(frozenAt)
    await waitFor(() => cluster.nodes.find((n) => n.id === victim)?.status === 'up', 'the thawed node up again', 10_000)
    await load.settle()
    expectNothingLost('freeze/thaw', load, {
      victim,
      zombieWritesRefused: store.staleWrites,
      noticed: timing(movedAfter.map((o) => o.leftAt)),
      resumedIn: timing(movedAfter.map((o) => o.downMs)),
    })
    expect(movedAfter.some((o) => o.name === target.name)).toBe(true)
    expect(cluster.nodeOf(sid())).not.toBe(victim)
  })

  it('a zombie write is refused by the store: the frozen node wakes with frames for a session that moved', async () => {
    const { cluster } = faults
    // Direct sockets (no balancer): the zombie's connection must still be open when it wakes, as with a network
    // partition, so that only the store's generation check stands between its frames and the log.
    const [x, y] = cluster.nodes.filter((n) => n.status === 'up')
    const direct = (port: number | undefined): string => `ws://127.0.0.1:${port}`
    const zombie = await RawClient.welcomed(direct(x?.port), { subs: {} })
    await cluster.freeze(x?.id as string)
    for (let seq = 1; seq <= 3; seq++) zombie.send({ t: 'pub', seq, topic: 'zombie', data: { from: 'zombie', seq } })
    const moved = await RawClient.welcomed(direct(y?.port), { subs: {}, token: zombie.welcome.session.token })
    expect(moved.welcome.session.id).toBe(zombie.welcome.session.id)
    moved.send({ t: 'pub', seq: 1, topic: 'zombie', data: { from: 'moved', seq: 1 } })
    await moved.next((f) => f.t === 'ack' && f.seq === 1, 10_000)
    const staleBefore = store.staleWrites
    await cluster.thaw(x?.id as string)
    const { code } = await zombie.closed
    const reader = await RawClient.welcomed(direct(y?.port), { subs: { zombie: null } })
    const head = (await reader.next<Subscribed>((f) => f.t === 'subscribed')).offset
    console.log(`[zombie] frozen node closed its stale socket with ${code}; store refused ${store.staleWrites - staleBefore} write(s); topic head ${head}`)
    expect(code).toBe(4409) // SESSION_MOVED
    expect(store.staleWrites - staleBefore).toBeGreaterThan(0)
    expect(head).toBe(1) // only the moved session's publish is in the log
    for (const s of [moved, reader]) s.close()
  })
})
