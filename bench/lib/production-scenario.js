/**
 * One run of the production row's scenario for one system: a redis-server, 3 servers of the system on it
 * (production-servers.js), HAProxy in front (examples/haproxy/haproxy.cfg, unchanged), N clients through HAProxy
 * all in one room, a publisher connected to server 3 directly at `rate` msg/s to that room, and every client
 * sending `upRate` msg/s upstream. After `warmMs`: SIGKILL server 1; `afterKillMs` later SIGTERM server 2;
 * `afterTermMs` later the publisher and the senders stop; then a fixed `settleMs` (the same for every system, so
 * the CPU windows are equal) for the last deliveries and replays.
 */
import { startChild, sleep } from './proc.js'
import { startRedis } from './redis.js'
import { startHaproxy, falseMarkDowns } from './haproxy.js'
import { startServers } from './production-servers.js'
import { startFleets } from './fleets.js'
import { startCpuSampler } from './cpu.js'
import { addCounts } from '@lifeline/devserver/testing/ledger'
import { progress } from './log.js'

/** @typedef {import('./production-servers.js').System} System */

/** @type {Record<System, import('./client-fleet.js').Kind>} */
const FLEET = { lifeline: 'lifeline', socketio: 'socketio', plain: 'partysocket' }
/** @type {Record<System, 'lifeline' | 'socketio' | 'plain'>} */
const PUBLISHER = { lifeline: 'lifeline', socketio: 'socketio', plain: 'plain' }

/**
 * @typedef {object} ProductionOptions
 * @property {System} system
 * @property {number} clients
 * @property {number} [rate]  publisher, msg/s (default 50)
 * @property {number} [upRate]  per client, msg/s (default 5)
 * @property {number} warmMs
 * @property {number} afterKillMs
 * @property {number} afterTermMs
 * @property {number} settleMs
 */

/**
 * One fault's affected clients: reconnect times (ms after the fault; Infinity = not within the run) and how many
 * recovered their session (null where the system has no such notion).
 * @typedef {{ affected: number[], times: number[], recovered: number | null }} FaultOutcome
 */

/**
 * @typedef {object} ProductionResult
 * @property {FaultOutcome} kill
 * @property {FaultOutcome} term
 * @property {number} affected  distinct clients dropped by either fault
 * @property {import('@lifeline/devserver/testing/ledger').Counts} counts  server → client, over all clients
 * @property {number} published
 * @property {{ sent: number, acked: number, failed: number }} upstream
 * @property {number} publisherUnacked
 * @property {import('./cpu.js').CpuResult} cpu
 * @property {{ server: number, atMs: number }[]} falseMarkDowns  atMs: after the kill
 * @property {{ server: number, state: string, atMs: number }[]} transitions  every HAProxy health transition, ms after the kill
 */

/**
 * @param {import('./client-fleet.js').ClientReport[]} reports
 * @param {0 | 1} k  which mark
 * @param {number} markT
 * @returns {FaultOutcome}
 */
function outcome(reports, k, markT) {
  /** @type {number[]} */
  const affected = []
  /** @type {number[]} */
  const times = []
  let recovered = 0
  let known = false
  reports.forEach((r, i) => {
    const d = r.drops[k]
    if (!d || d.down === null) return
    affected.push(i)
    times.push(d.up === null ? Infinity : d.up - markT)
    if (d.recovered !== null) known = true
    if (d.recovered) recovered++
  })
  return { affected, times, recovered: known ? recovered : null }
}

/**
 * @param {ProductionOptions} o
 * @returns {Promise<ProductionResult>}
 */
export async function productionRun(o) {
  const { system, clients, rate = 50, upRate = 5 } = o
  const label = `production ${system} ${clients}`
  const redis = await startRedis()
  if (!redis) throw new Error('redis-server is not installed')
  /** @type {Awaited<ReturnType<typeof startServers>> | undefined} */
  let servers
  /** @type {Awaited<ReturnType<typeof startHaproxy>> | undefined} */
  let haproxy
  /** @type {import('./proc.js').Child | undefined} */
  let publisher
  /** @type {Awaited<ReturnType<typeof startFleets>> | undefined} */
  let fleets
  try {
    servers = await startServers(system, redis.url)
    haproxy = await startHaproxy(servers.addresses)
    publisher = await startChild('publisher.js')
    await publisher.call('open', { kind: PUBLISHER[system], urls: [servers.urls[2]] }, 15_000)
    const front = system === 'socketio' ? haproxy.url.replace(/^ws:/, 'http:') : haproxy.url
    fleets = await startFleets({ kind: FLEET[system], urls: [front], count: clients, rooms: 1, partysocket: { minReconnectionDelay: 100 } })
    progress(label, `${clients} clients through HAProxy, publisher on server 3`)
    const f = fleets
    const pub = publisher
    const h = haproxy
    const srv = servers
    const cpu = startCpuSampler({
      servers: () => [...srv.pids(), h.pid, redis.pid],
      clients: () => [...f.pids, pub.pid],
    })
    await pub.call('start', { rate, rooms: 1 })
    await f.upstream(upRate)
    await sleep(o.warmMs)
    cpu.sample()
    const killT = Date.now()
    servers.servers[0]?.signal('SIGKILL')
    await sleep(o.afterKillMs)
    const termT = Date.now()
    servers.servers[1]?.signal('SIGTERM')
    await sleep(o.afterTermMs)
    await f.upstreamStop()
    const [stopped] = await Promise.all([
      /** @type {Promise<{ published: Record<string, number>, sent: number, unacked: number }>} */ (pub.call('stop', { settleMs: o.settleMs }, o.settleMs + 10_000)),
      sleep(o.settleMs),
    ])
    const cpuResult = cpu.stop()
    const reports = await f.report({ markT: killT, marks: [killT, termT], expected: stopped.published, waitMs: 1_000 }, 60_000)
    const upstream = await f.upstreamStop()
    const kill = outcome(reports, 0, killT)
    const term = outcome(reports, 1, termT)
    const wrong = falseMarkDowns(h.transitions, { 1: killT, 2: termT })
    progress(label, `kill: ${kill.affected.length} affected; term: ${term.affected.length}; CPU ${cpuResult.percent}% (machine ${cpuResult.machinePercent}%)`)
    return {
      kill,
      term,
      affected: new Set([...kill.affected, ...term.affected]).size,
      counts: addCounts(...reports.map((r) => r.counts)),
      published: stopped.sent,
      upstream,
      publisherUnacked: stopped.unacked,
      cpu: cpuResult,
      falseMarkDowns: wrong.map((t) => ({ server: t.server, atMs: t.at - killT })),
      transitions: h.transitions.map((t) => ({ server: t.server, state: t.state, atMs: t.at - killT })),
    }
  } finally {
    await fleets?.stop()
    await publisher?.call('close', {}, 5_000).catch(() => {})
    await publisher?.stop()
    await haproxy?.stop()
    await servers?.stop()
    await redis.stop()
  }
}
