/**
 * What the dashboard charts: ClusterStats (cluster/stats.ts) turning node reports into per-second rates, the
 * store's state, and FaultReconnects (cluster/reconnects.ts) timing each resume from the last fault. Pure, on a
 * fake clock and a fake node list; then once through GET /_lifeline/api/stats of a real cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EventLog } from '../src/cluster/events.js'
import { FaultReconnects, RECONNECT_BOUNDS_MS } from '../src/cluster/reconnects.js'
import { ClusterStats, STORE_SLOW_MS, type StatsSnapshot } from '../src/cluster/stats.js'
import type { ClusterNode } from '../src/cluster/types.js'
import { NodeStats, type StatsReport } from '../src/node/stats.js'
import { startCluster, type Cluster } from '../src/cluster/index.js'

function report(pid: number, at: number, counts: Partial<Pick<StatsReport, 'messagesIn' | 'messagesOut' | 'resumes' | 'resumedAt'>> & { store?: Partial<StatsReport['store']> } = {}): StatsReport {
  const { store, ...rest } = counts
  return {
    lifeline: 'stats',
    pid,
    at,
    connections: 0,
    messagesIn: 0,
    messagesOut: 0,
    resumes: 0,
    resumedAt: [],
    ...rest,
    store: { calls: 0, failures: 0, waiting: 0, oldestWaitingMs: 0, slowestMs: 0, ...store },
  }
}

function harness() {
  let now = 1_000_000
  const nodes: ClusterNode[] = [
    { id: 'n1', pid: 11, port: 1, status: 'up', connections: 5 },
    { id: 'n2', pid: 22, port: 2, status: 'up', connections: 3 },
  ]
  const events = new EventLog()
  const stats = new ClusterStats({ nodes: () => nodes, events, store: () => ({ kind: 'memory', where: 'in the supervisor' }), now: () => now })
  return { stats, nodes, events, tick: (ms: number) => (now += ms), get now() { return now } }
}

describe('ClusterStats', () => {
  it('turns counters into per-second rates, and gives a node without a fresh report nulls, not zeros', () => {
    const h = harness()
    h.stats.report('n1', report(11, h.now, { messagesIn: 10, messagesOut: 100 }))
    h.stats.sample() // one report: no rate yet
    h.tick(1_000)
    h.stats.report('n1', report(11, h.now, { messagesIn: 30, messagesOut: 400, resumes: 4 }))
    h.stats.sample()
    const s = h.stats.snapshot()
    expect(s.intervalMs).toBe(1_000)
    expect(s.at).toHaveLength(2)
    expect(s.nodes.n1).toEqual({ connections: [5, 5], messagesIn: [null, 20], messagesOut: [null, 300], resumes: [null, 4] })
    expect(s.nodes.n2, 'n2 never reported (frozen, say)').toEqual({ connections: [3, 3], messagesIn: [null, null], messagesOut: [null, null], resumes: [null, null] })
    // `after` gives only what came later: what the page's next poll asks.
    expect(h.stats.snapshot(s.at[0]).at).toEqual([s.at[1]])
    expect(h.stats.snapshot(s.at[1]).at).toEqual([])
  })

  it('a report older than 2.5 s, a new process of the node, or a dead node gives no rate', () => {
    const h = harness()
    h.stats.report('n1', report(11, h.now, { messagesOut: 0 }))
    h.tick(1_000)
    h.stats.report('n1', report(11, h.now, { messagesOut: 50 }))
    h.tick(3_000) // frozen: no report since
    h.stats.sample()
    expect(h.stats.snapshot().nodes.n1?.messagesOut).toEqual([null])
    // Restarted: the new process counts from 0, which must not read as a negative (or a huge) rate.
    h.nodes[0] = { ...h.nodes[0]!, pid: 12 }
    h.stats.report('n1', report(12, h.now, { messagesOut: 3 }))
    h.tick(1_000)
    h.stats.report('n1', report(12, h.now, { messagesOut: 13 }))
    h.stats.sample()
    expect(h.stats.snapshot().nodes.n1?.messagesOut.at(-1)).toBe(10)
    h.nodes[0] = { ...h.nodes[0]!, status: 'dead' }
    h.stats.sample()
    expect(h.stats.snapshot().nodes.n1?.messagesOut.at(-1)).toBeNull()
  })

  it('says the store is ok, slow, failing, or unknown, as the worst live node sees it', () => {
    const h = harness()
    const state = (): StatsSnapshot['store'] => h.stats.snapshot().store
    expect(state()).toMatchObject({ kind: 'memory', state: 'unknown' })
    h.stats.report('n1', report(11, h.now))
    h.stats.report('n2', report(22, h.now))
    expect(state().state).toBe('ok')
    h.tick(1_000)
    h.stats.report('n2', report(22, h.now, { store: { waiting: 2, oldestWaitingMs: STORE_SLOW_MS } }))
    expect(state()).toMatchObject({ state: 'slow', nodes: { n1: { state: 'ok' }, n2: { state: 'slow', waiting: 2 } } })
    h.stats.report('n1', report(11, h.now, { store: { calls: 5, failures: 5 } }))
    expect(state()).toMatchObject({ state: 'failing', nodes: { n1: { state: 'failing', failuresPerSec: 5 } } })
  })
})

describe('FaultReconnects', () => {
  const kill = (log: EventLog, node: string): void => void log.record('action', node, 'kill SIGKILL', { action: 'kill', signal: 'SIGKILL' })

  it('times every resume from the fault, into the histogram buckets, with quantiles', () => {
    const log = new EventLog()
    const r = new FaultReconnects((id) => (id === 'n1' ? 4 : 0))
    log.on('event', (e) => r.event(e))
    kill(log, 'n1')
    const at = r.last()!.at
    r.resumed([at + 50, at + 150, at + 150, at + 2_500, at - 10, at + 120_000]) // before it, or long after: not its
    const f = r.last()!
    expect(f).toMatchObject({ node: 'n1', text: 'kill SIGKILL', affected: 4, resumed: 4, p50Ms: 150, maxMs: 2_500 })
    const counts = Object.fromEntries(RECONNECT_BOUNDS_MS.map((b, i) => [b, f.histogram.counts[i]]))
    expect(counts).toMatchObject({ 100: 1, 200: 2, 3_000: 1 })
    expect(f.histogram.counts.reduce((a, b) => a + b, 0)).toBe(4)
  })

  it('a fault that cuts nobody (the restart of the node just killed, a latency) keeps the last one that did', () => {
    const log = new EventLog()
    let connections = 6
    const r = new FaultReconnects(() => connections)
    log.on('event', (e) => r.event(e))
    kill(log, 'n1')
    const killed = r.last()!.seq
    connections = 0
    kill(log, 'n1') // again, with its clients gone
    log.record('action', 'n1', 'restart', { action: 'restart' })
    expect(r.last()!.seq).toBe(killed)
    connections = 6
    log.record('action', 'n2', 'impair: latency 300 ms', { action: 'impair', impairment: { latencyMs: 300 } })
    log.record('action', 'n2', 'impair session s1: blackhole', { action: 'impair', session: 's1', impairment: { blackhole: true } })
    expect(r.last()!.seq, 'neither a latency nor one page’s blackhole makes a node’s clients reconnect').toBe(killed)
    log.record('action', 'n2', 'impair: blackhole', { action: 'impair', impairment: { blackhole: true } })
    expect(r.last()).toMatchObject({ node: 'n2', text: 'impair: blackhole', affected: 6 })
  })

  it('an exit nobody asked for is a fault; the exit a kill caused is that kill’s', () => {
    const log = new EventLog()
    const r = new FaultReconnects(() => 3)
    log.on('event', (e) => r.event(e))
    kill(log, 'n1')
    const killed = r.last()!.seq
    log.record('node', 'n1', 'running → exited (SIGKILL)', { from: 'running', to: 'exited' })
    expect(r.last()!.seq).toBe(killed)
    log.record('node', 'n1', 'exited → starting', { from: 'exited', to: 'starting' })
    log.record('node', 'n1', 'running → exited (code 1)', { from: 'running', to: 'exited' })
    expect(r.last()).toMatchObject({ text: 'running → exited (code 1)' })
  })
})

describe('NodeStats', () => {
  it('counts msg frames out, resumes (with their times), writes in, and store calls in flight', () => {
    let now = 5_000
    const s = new NodeStats(() => now)
    s.sent('{"t":"msg","topic":"a","offset":1,"epoch":"e","data":1}')
    s.sent('{"t":"welcome","session":{"id":"x","token":"y"},"resumed":true}')
    s.sent('{"t":"welcome","session":{"id":"x","token":"y"},"resumed":false}')
    s.sent('{"t":"ack","seq":1}')
    const done = s.call('apply')
    s.call('read') // still in flight at the report
    now += 40
    done(false)
    now += 10
    const r = s.take(7)
    expect(r).toMatchObject({ connections: 7, messagesIn: 1, messagesOut: 1, resumes: 1, resumedAt: [5_000], store: { calls: 1, failures: 1, waiting: 1, oldestWaitingMs: 50, slowestMs: 40 } })
    expect(s.take(7), 'per report: resume times and the slowest call start again').toMatchObject({ resumedAt: [], resumes: 1, store: { slowestMs: 0 } })
  })
})

describe('GET /_lifeline/api/stats', () => {
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, port: 0, log: () => {} })
  })
  afterAll(async () => {
    await cluster?.stop()
  })

  it('gives a sample a second of every node, from `after` on, with the store and the last fault', async () => {
    const get = async (query: string) => {
      const res = await fetch(`${cluster.adminUrl}/stats${query}`)
      return { status: res.status, body: (await res.json()) as StatsSnapshot & { error?: { code: string } } }
    }
    await expect.poll(async () => (await get('')).body.at.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3)
    const { status, body } = await get('')
    expect(status).toBe(200)
    expect(Object.keys(body.nodes)).toEqual(['n1', 'n2'])
    expect(body.nodes.n1?.connections).toHaveLength(body.at.length)
    expect(body.store).toMatchObject({ kind: 'memory', state: 'ok' })
    expect(body.lastFault).toBeNull()
    const later = await get(`?after=${body.at.at(-1)}`)
    expect(later.body.at.every((t) => t > body.at.at(-1)!)).toBe(true)
    expect((await get('?after=soon')).body.error?.code).toBe('BAD_OPTION')
  })
})
