/**
 * SIGKILL faults with Node SDK clients through the balancer: every message counted in both directions
 * (publish → topic readers, send → own inbox). Real processes, real signals: run `npm run build` first.
 */
import { describe, expect, it } from 'vitest'
import { expectNothingLost } from './support/expect.js'
import { busiestNode, runKillingAt, useFaultCluster } from './support/fault-cluster.js'
import { timing } from './support/load.js'
import { networkSwitch } from './support/network.js'
import { waitFor } from './support/wait.js'

const faults = useFaultCluster()

describe('SIGKILL', () => {
  it('a node under load: its clients resume elsewhere, nothing lost, duplicated or reordered', async () => {
    const { cluster } = faults
    const load = await faults.startLoad({ clients: 6, messages: 150 })
    const victim = busiestNode(cluster)
    const killedAt = await runKillingAt(load, cluster, victim, 50)
    await load.settle()
    expectNothingLost('kill under load', load, { victim, recovery: timing(load.recoveryTimes(killedAt)) })
  })

  it('the very node a given client is on (nodeOf): that client resumes on another node', async () => {
    const { cluster } = faults
    const load = await faults.startLoad({ clients: 4, messages: 150 })
    const target = load.clients[0]!
    const victim = cluster.nodeOf(target.client.sessionId as string) as string
    expect(victim).toMatch(/^n\d+$/)
    const killedAt = await runKillingAt(load, cluster, victim, 50)
    await load.settle()
    const now = cluster.nodeOf(target.client.sessionId as string)
    expect(now).toBeDefined()
    expect(now).not.toBe(victim)
    expectNothingLost('kill the client’s node', load, { victim, movedTo: String(now), recovery: timing(load.recoveryTimes(killedAt)) })
  })

  it('during a replay: a client catching up is cut off mid-replay and resumes from where it stopped', async () => {
    const { cluster } = faults
    const load = await faults.startLoad({ clients: 3, messages: 400, intervalMs: 2 })
    const net = networkSwitch()
    const reader = load.newClient('replayer', { WebSocket: net.WebSocket })
    load.clients.push(reader) // its publishes and inbox count too
    await reader.client.subscribe('load')
    net.cut()
    await load.run() // 1,600 topic messages published while the reader is away
    await waitFor(() => load.clients.every((c) => c === reader || c.received > 0), 'online readers to receive')
    let killed = false
    let victim = ''
    const before = reader.received
    let receivedWhenCut = -1
    const offMessage = reader.client.on('message', () => {
      if (killed) return
      killed = true
      victim = cluster.nodeOf(reader.client.sessionId as string) as string
      void cluster.kill(victim)
    })
    const offState = reader.client.on('state', ({ to }) => {
      if (killed && receivedWhenCut < 0 && to !== 'open') receivedWhenCut = reader.received - before
    })
    net.restore()
    reader.client.reconnect()
    await load.settle(20_000)
    offMessage()
    offState()
    const replayed = load.ledger.counts({ topic: 'load' }).sent
    console.log(`[kill during replay] the reader had ${receivedWhenCut} of ${replayed} replayed messages when its node (${victim}) died`)
    // Proof the kill landed mid-replay (not after it): the socket died before the replay was through.
    expect(receivedWhenCut).toBeGreaterThanOrEqual(0)
    expect(receivedWhenCut).toBeLessThan(replayed)
    expectNothingLost('kill during replay', load, { victim })
  })
})
