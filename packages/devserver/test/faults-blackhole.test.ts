/**
 * Network faults: a blackhole (bytes stop both ways, every socket stays open: a half-open link) on a whole node
 * (cluster.impair) and on one session's connection only (cluster.impairSession, what impairPage does), under load
 * with Node SDK clients through the balancer. Clients must notice within the heartbeat timeout, resume (elsewhere
 * for a node; where they were for a session, once healed), and lose nothing; when the link heals, what it held
 * flows into the node, and none of it may be applied twice. Counted both ways. Run `npm run build` first.
 *
 * So that it is the clients' heartbeat that notices (not the balancer cutting the node's sockets), the cluster
 * pings every 500 ms with a 1.5 s timeout and probes health slowly: a probe gives up after 1.5 s and two must
 * fail, so the balancer cannot act within BALANCER_EARLIEST_MS of the fault (as e2e/specs/freeze.spec.ts does).
 */
import { describe, expect, it } from 'vitest'
import { CountingStore } from './support/counting-store.js'
import { expectNothingLost } from './support/expect.js'
import { busiestNode, clientsOn, sidOf, useFaultCluster } from './support/fault-cluster.js'
import { timing } from './support/load.js'
import { waitFor } from './support/wait.js'

const HEARTBEAT_MS = 500
const TIMEOUT_MS = 1_500
/** Probes every 2 s, each given 1.5 s, two failures to go down: about 3.5 s after the fault at the earliest. */
const HEALTH = { intervalMs: 2_000, timeoutMs: 1_500 }
const BALANCER_EARLIEST_MS = 3_000
/** A client's silence timer fires TIMEOUT_MS after the last frame; this much more for a loaded 2-core machine. */
const NOTICE_SLACK_MS = 1_000

const store = new CountingStore()
const faults = useFaultCluster({ store, heartbeatMs: HEARTBEAT_MS, timeoutMs: TIMEOUT_MS, health: HEALTH })

describe('blackhole', () => {
  it('a blackholed node: its clients notice within the heartbeat timeout, resume elsewhere; healed, nothing applied twice', async () => {
    const { cluster } = faults
    const load = await faults.startLoad({ clients: 6, messages: 300 })
    const victim = busiestNode(cluster)
    const onVictim = clientsOn(cluster, load.clients, victim)
    expect(onVictim.length).toBeGreaterThan(0)
    const eventsBefore = cluster.events.list().at(-1)?.seq ?? 0
    let at = 0
    let fault: Promise<void> | undefined
    /** When the balancer took the node out of routing, after the fault; null if it had not by the time every client resumed. */
    let downAfter: number | null = null
    await load.run((tick) => {
      if (tick !== 40) return
      fault = (async () => {
        at = Date.now()
        await cluster.impair(victim, { blackhole: true })
        await waitFor(() => onVictim.every((c) => ![victim, undefined].includes(cluster.nodeOf(sidOf(c)))), 'every client of the blackholed node to resume on another', 20_000)
        const down = cluster.events.list(eventsBefore).find((e) => e.kind === 'routing' && e.node === victim && e.detail?.health === 'down')
        downAfter = down ? down.at - at : null
        // Healed while the load still runs: the frames the link held (the clients' publishes from before they
        // gave up on it) reach the node now, after those clients resumed elsewhere.
        await cluster.heal(victim)
      })()
    })
    await fault
    await waitFor(() => cluster.nodes.find((n) => n.id === victim)?.status === 'up', 'the healed node up again', 15_000)
    // One more round through every client after the heal, so a late duplicate would be seen.
    for (const c of load.clients) await c.client.publish('after-heal', { n: 1 })
    await load.settle(20_000)
    const outages = load.outages(at).filter((o) => onVictim.some((c) => c.name === o.name))
    expectNothingLost('blackholed node', load, {
      victim,
      clientsOnIt: onVictim.length,
      noticed: timing(outages.map((o) => o.leftAt)),
      resumedIn: timing(outages.map((o) => o.downMs)),
      balancerDownAfterMs: downAfter ?? 'not before every client resumed',
      staleWritesRefused: store.staleWrites,
      duplicateResends: store.duplicates,
    })
    expect(outages.map((o) => o.name).sort()).toEqual(onVictim.map((c) => c.name).sort())
    for (const o of outages) expect(o.leftAt, `${o.name} noticed by its heartbeat`).toBeLessThan(TIMEOUT_MS + NOTICE_SLACK_MS)
    expect(Math.max(...outages.map((o) => o.leftAt))).toBeLessThan(BALANCER_EARLIEST_MS)
    const actions = cluster.events.list(eventsBefore).filter((e) => e.kind === 'action' && e.node === victim)
    expect(actions.map((e) => e.text)).toEqual(['impair: blackhole', 'heal'])
  })

  it('one session blackholed (impairSession): only its client notices; healed, it resumes with nothing lost', async () => {
    const { cluster } = faults
    const load = await faults.startLoad({ clients: 6, messages: 250 })
    const target = load.clients[0]!
    const session = sidOf(target)
    const node = cluster.nodeOf(session) as string
    const neighbours = load.clients.filter((c) => c !== target && cluster.nodeOf(sidOf(c)) === node)
    let at = 0
    let healedAt = 0
    let fault: Promise<void> | undefined
    await load.run((tick) => {
      if (tick !== 40) return
      fault = (async () => {
        at = Date.now()
        await cluster.impairSession(session, { blackhole: true })
        await waitFor(() => target.states.some((s) => s.at >= at && s.to !== 'open'), 'the blackholed session to leave open', 10_000)
        // Its reconnects carry its session id (to whichever node the balancer routes that session now), and the
        // impairment follows the session there: they are held unanswered, so it stays away until healed. The
        // fault lasts until the node gave up on the old socket too (its own TIMEOUT_MS), so that socket's held
        // frames meet a closed connection when they flow.
        await waitFor(() => Date.now() - at > TIMEOUT_MS + HEARTBEAT_MS, 'the blackhole to outlast the node’s own timeout', 5_000)
        expect(cluster.faults.sessions).toEqual({ [session]: { blackhole: true } })
        healedAt = Date.now()
        await cluster.healSession(session)
      })()
    })
    await fault
    await load.settle(20_000)
    const outages = load.outages(at)
    const mine = outages.find((o) => o.name === target.name)
    expectNothingLost('blackholed session', load, {
      node,
      resumedOn: String(cluster.nodeOf(session)),
      neighboursOnItsNode: neighbours.length,
      noticed: mine ? `${mine.leftAt}ms` : 'never',
      resumedIn: mine ? `${mine.downMs}ms` : 'never',
      othersDropped: outages.filter((o) => o.name !== target.name).length,
      staleWritesRefused: store.staleWrites,
    })
    expect(mine?.leftAt).toBeLessThan(TIMEOUT_MS + NOTICE_SLACK_MS)
    expect(outages.map((o) => o.name)).toEqual([target.name]) // nobody else, on its node or any other
    expect(sidOf(target)).toBe(session) // resumed, not reset
    // Not open again before the heal, wherever its reconnects went.
    expect(target.states.find((s) => s.at >= at && s.to === 'open')?.at).toBeGreaterThanOrEqual(healedAt)
    expect(cluster.faults.sessions).toEqual({})
  })
})
