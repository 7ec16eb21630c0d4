/**
 * The shared scenario of the failover, drain and frozen rows: clients spread over 3 nodes, a publisher at a
 * steady rate, then one fault on one node. Run twice in one bench, side by side:
 *  - Lifeline: startCluster (3 nodes, memory store, the balancer), Node SDK clients, an SDK publisher;
 *  - baseline: 3 plain `ws` broadcast servers, partysocket clients with defaults (their URL function moves on
 *    to the next server on a retry), a publisher that sends each message to every live server (the pub/sub
 *    bus such apps use, without replay).
 *  (Socket.IO, the second baseline of the failover and drain rows, is in socketio-scenario.js.)
 * The faulted node is one the publisher is not on, and the one serving the most clients.
 * The publisher runs in a child of its own (publisher.js). CPU (cpu.js) is counted from the publisher's start
 * to the last report: "servers" = this process and its children other than the fleets and the publisher (for
 * Lifeline this process is the cluster's supervisor, balancer and memory store; for the baseline it only
 * orchestrates), "clients" = the fleets and the publisher.
 */
import { startChild, sleep } from './proc.js'
import { startFleets, tally } from './fleets.js'
import { startCpuSampler } from './cpu.js'
import { progress } from './log.js'

/** @type {Record<ScenarioOptions['fault'], NodeJS.Signals>} */
const SIGNAL = { kill: 'SIGKILL', drain: 'SIGTERM', freeze: 'SIGSTOP' }

/**
 * @typedef {object} ScenarioOptions
 * @property {'kill' | 'drain' | 'freeze'} fault
 * @property {string} row  for progress lines
 * @property {number} clients
 * @property {number} rooms
 * @property {number} rate  messages per second, over all rooms
 * @property {number} warmMs  publishing before the fault
 * @property {number} windowMs  publishing after the fault, and the wait for resumes (Lifeline)
 * @property {number} baselineWindowMs  the same for the baseline
 * @property {number} settleMs  the wait for the last deliveries and acks (Lifeline)
 * @property {(markT: number) => void} [onFault]  called just before the fault (Lifeline), for the profiler
 * @property {Partial<import('@lifeline/devserver').ClusterOptions>} [cluster]  more cluster options (the profiler's `--routing`)
 * @property {number} [perFleet]  clients per fleet process (Lifeline; default fleets.js's)
 */

/** @typedef {ReturnType<typeof tally> & { published: number, clients: number, windowMs: number, cpu: import('./cpu.js').CpuResult }} BaselineResult */
/**
 * @typedef {BaselineResult & { publishErrors: Record<string, number>, unacked: number, node: string, fleetLag: { p99: number, max: number } }} LifelineResult
 * `publishErrors`: rejected publishes by error code; `unacked`: publishes still unacknowledged after the settle wait;
 * `fleetLag`: the worst fleet's event-loop delay (ms) from the publisher's start to the report.
 */

/** @param {import('./proc.js').Child} server  a plain-server.js child */
async function portOf(server) {
  return /** @type {{ port: number }} */ (await server.call('info')).port
}

/** @typedef {{ published: Record<string, number>, sent: number, publishErrors: Record<string, number>, unacked: number }} Published  what publisher.js `stop` returns */

/**
 * A publisher child (publisher.js), opened on `urls`; stopped by the caller.
 * @param {'lifeline' | 'plain' | 'socketio'} kind
 * @param {string[]} urls
 */
export async function openPublisher(kind, urls) {
  const child = await startChild('publisher.js')
  try {
    const { sessionId } = /** @type {{ sessionId: string | null }} */ (await child.call('open', { kind, urls }, 15_000))
    return { child, sessionId }
  } catch (e) {
    await child.stop()
    throw e
  }
}

/**
 * Sample the CPU of this process and its children (servers) against the fleets and the publisher (clients).
 * @param {{ pids: (number | undefined)[] }} fleets
 * @param {import('./proc.js').Child} publisher
 */
export function sampleCpu(fleets, publisher) {
  return startCpuSampler({ servers: () => [process.pid], clients: () => [...fleets.pids, publisher.pid] })
}

/**
 * @param {ScenarioOptions} o
 * @returns {Promise<BaselineResult>}
 */
export async function baselineScenario(o) {
  const { reports: _reports, affectedIds: _ids, ...result } = await serverTrioScenario(o, {
    name: 'baseline',
    script: 'plain-server.js',
    scheme: 'ws',
    kind: 'partysocket',
    publisher: 'plain',
    publishTo: (urls) => urls,
    windowMs: o.baselineWindowMs,
    settleMs: 0,
    // No replay: what was lost is lost, so only a short wait for frames in flight.
    reportWaitMs: 500,
  })
  return result
}

/**
 * @typedef {object} TrioSpec  how one baseline system is started and read (serverTrioScenario)
 * @property {string} name  for progress lines
 * @property {string} script  the server's bench/lib script, started 3 times
 * @property {Record<string, string>} [env]
 * @property {'ws' | 'http'} scheme  of the servers' URLs, as its clients take them
 * @property {'partysocket' | 'socketio'} kind  client-fleet.js kind
 * @property {'plain' | 'socketio'} publisher  publisher.js kind
 * @property {(urls: string[]) => string[]} publishTo  the URLs the publisher gets
 * @property {number} windowMs  from the fault to stopping the publisher
 * @property {number} settleMs  the publisher's wait for acknowledgements on stop
 * @property {number} reportWaitMs  the fleets' wait for what is still due
 */

/**
 * A baseline's run: 3 servers of `spec.script`, fleets whose client i starts on server i % 3 (client-fleet.js),
 * the publisher, warm-up, the fault to server 0, the window, then every client's report.
 * @param {ScenarioOptions} o
 * @param {TrioSpec} spec
 * @returns {Promise<BaselineResult & { reports: Awaited<ReturnType<Awaited<ReturnType<typeof startFleets>>['report']>>, affectedIds: number[] }>}
 */
export async function serverTrioScenario(o, spec) {
  /** @type {import('./proc.js').Child[]} */
  const servers = []
  /** @type {Awaited<ReturnType<typeof startFleets>> | undefined} */
  let fleets
  /** @type {import('./proc.js').Child | undefined} */
  let publisher
  try {
    for (let k = 0; k < 3; k++) servers.push(await startChild(spec.script, spec.env ? { env: spec.env } : {}))
    const urls = []
    for (const s of servers) urls.push(`${spec.scheme}://127.0.0.1:${await portOf(s)}`)
    fleets = await startFleets({ kind: spec.kind, urls, count: o.clients, rooms: o.rooms })
    progress(o.row, `${spec.name}: ${o.clients} ${spec.kind} clients on 3 ${spec.script} servers`)
    const pub = (publisher = (await openPublisher(spec.publisher, spec.publishTo(urls))).child)
    const [first] = servers
    if (!first) throw new Error(`no ${spec.script} server started`)
    const cpu = sampleCpu(fleets, pub)
    await pub.call('start', { rate: o.rate, rooms: o.rooms })
    await sleep(o.warmMs)
    // Clients with global index i started on server i % 3 (client-fleet.js), so server 0 serves these.
    const affected = [...Array(o.clients).keys()].filter((i) => i % 3 === 0)
    cpu.sample()
    const markT = Date.now()
    first.signal(SIGNAL[o.fault])
    progress(o.row, `${spec.name}: ${SIGNAL[o.fault]} to server 0 (${affected.length} clients)`)
    await sleep(spec.windowMs)
    const stopped = /** @type {Published} */ (await pub.call('stop', { settleMs: spec.settleMs }, 15_000))
    const reports = await fleets.report({ markT, expected: stopped.published, waitMs: spec.reportWaitMs }, 30_000)
    return { ...tally(reports, affected, markT), published: stopped.sent, clients: o.clients, windowMs: spec.windowMs, cpu: cpu.stop(), reports, affectedIds: affected }
  } finally {
    await publisher?.stop()
    await fleets?.stop()
    await Promise.allSettled(servers.map((s) => s.stop()))
  }
}

/**
 * @param {ScenarioOptions} o
 * @returns {Promise<LifelineResult>}
 */
export async function lifelineScenario(o) {
  const { startCluster } = await import('@lifeline/devserver')
  const cluster = await startCluster({ nodes: 3, port: 0, store: 'memory', ...o.cluster })
  /** @type {Awaited<ReturnType<typeof startFleets>> | undefined} */
  let fleets
  /** @type {import('./proc.js').Child | undefined} */
  let publisher
  /** @type {string | null} */
  let frozen = null
  try {
    fleets = await startFleets({ kind: 'lifeline', urls: [cluster.url], count: o.clients, rooms: o.rooms, ...(o.perFleet ? { perFleet: o.perFleet } : {}) })
    progress(o.row, `lifeline: ${o.clients} SDK clients on ${cluster.nodes.length} nodes`)
    const opened = await openPublisher('lifeline', [cluster.url])
    const pub = (publisher = opened.child)
    const pubNode = cluster.nodeOf(opened.sessionId ?? '')
    const nodeOfClient = fleets.sessions.map((s) => (s === null ? undefined : cluster.nodeOf(s)))
    /** @type {Map<string | undefined, number>} */
    const load = new Map()
    for (const n of nodeOfClient) if (n !== pubNode) load.set(n, (load.get(n) ?? 0) + 1)
    const target = [...load.entries()].sort((a, b) => b[1] - a[1])[0]?.[0]
    if (target === undefined) throw new Error('no node other than the publisher’s serves clients')
    const affected = nodeOfClient.flatMap((n, i) => (n === target ? [i] : []))

    const cpu = sampleCpu(fleets, pub)
    await fleets.lag(true)
    await pub.call('start', { rate: o.rate, rooms: o.rooms })
    await sleep(o.warmMs)
    cpu.sample()
    const markT = Date.now()
    o.onFault?.(markT)
    if (o.fault === 'kill') await cluster.kill(target)
    else if (o.fault === 'drain') await cluster.drain(target)
    else {
      frozen = target
      await cluster.freeze(target)
    }
    progress(o.row, `lifeline: ${o.fault} node ${target} (${affected.length} clients)`)
    await sleep(Math.max(0, markT + o.windowMs - Date.now()))
    // publishErrors: rejected publishes by error code (OUTBOX_FULL, …), the publisher's own trouble, counted apart from delivery.
    const stopped = /** @type {Published} */ (await pub.call('stop', { settleMs: o.settleMs }, o.settleMs + 10_000))
    const reports = await fleets.report({ markT, expected: stopped.published, waitMs: o.settleMs }, o.settleMs + 30_000)
    return {
      ...tally(reports, affected, markT),
      published: stopped.sent,
      publishErrors: stopped.publishErrors,
      /** Publishes still unacknowledged after the settle wait: a stalled publisher, not a lossy delivery. */
      unacked: stopped.unacked,
      clients: o.clients,
      windowMs: o.windowMs,
      node: target,
      cpu: cpu.stop(),
      fleetLag: await fleets.lag(),
    }
  } finally {
    if (frozen !== null) await cluster.thaw(frozen).catch(() => {})
    await publisher?.call('close', {}, 5_000).catch(() => {})
    await publisher?.stop()
    await fleets?.stop()
    await cluster.stop()
  }
}
