/**
 * The shared scenario of the failover, drain and frozen rows: clients spread over 3 nodes, a publisher at a
 * steady rate, then one fault on one node. Run twice in one bench, side by side:
 *  - Lifeline: startCluster (3 nodes, memory store, the balancer), Node SDK clients, an SDK publisher;
 *  - baseline: 3 plain `ws` broadcast servers, partysocket clients with defaults (their URL function moves on
 *    to the next server on a retry), a publisher that sends each message to every live server (the pub/sub
 *    bus such apps use, without replay).
 * The faulted node is one the publisher is not on, and the one serving the most clients.
 */
import WS from 'ws'
import { startChild, sleep, withTimeout } from './proc.js'
import { startFleets, tally } from './fleets.js'
import { startPacer } from './pacer.js'
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
 */

/** @typedef {ReturnType<typeof tally> & { published: number, clients: number, windowMs: number }} BaselineResult */
/**
 * @typedef {BaselineResult & { publishErrors: Record<string, number>, unacked: number, node: string }} LifelineResult
 * `publishErrors`: rejected publishes by error code; `unacked`: publishes still unacknowledged after the settle wait.
 */

/** @param {import('./proc.js').Child} server  a plain-server.js child */
async function portOf(server) {
  return /** @type {{ port: number }} */ (await server.call('info')).port
}

/**
 * @param {ScenarioOptions} o
 * @returns {Promise<BaselineResult>}
 */
export async function baselineScenario(o) {
  /** @type {import('./proc.js').Child[]} */
  const servers = []
  /** @type {Awaited<ReturnType<typeof startFleets>> | undefined} */
  let fleets
  /** @type {WS[]} */
  const pubs = []
  try {
    for (let k = 0; k < 3; k++) servers.push(await startChild('plain-server.js'))
    const urls = []
    for (const s of servers) urls.push(`ws://127.0.0.1:${await portOf(s)}`)
    fleets = await startFleets({ kind: 'partysocket', urls, count: o.clients, rooms: o.rooms })
    progress(o.row, `baseline: ${o.clients} partysocket clients on 3 plain ws servers`)
    for (const url of urls) {
      const ws = new WS(url)
      ws.on('error', () => {})
      await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)))
      pubs.push(ws)
    }
    const [first] = servers
    if (!first) throw new Error('no plain server started')
    const pacer = startPacer({
      rate: o.rate,
      rooms: o.rooms,
      send: (room, i) => {
        const text = JSON.stringify({ room, i })
        for (const ws of pubs) if (ws.readyState === WS.OPEN) ws.send(text)
      },
    })
    await sleep(o.warmMs)
    // Clients with global index i started on server i % 3 (client-fleet.js), so server 0 serves these.
    const affected = [...Array(o.clients).keys()].filter((i) => i % 3 === 0)
    const markT = Date.now()
    first.signal(SIGNAL[o.fault])
    progress(o.row, `baseline: ${SIGNAL[o.fault]} to plain server 0 (${affected.length} clients)`)
    await sleep(o.baselineWindowMs)
    pacer.stop()
    // No replay: what was lost is lost, so only a short wait for frames in flight.
    const reports = await fleets.report({ markT, expected: pacer.published, waitMs: 500 }, 30_000)
    return { ...tally(reports, affected, markT), published: pacer.sent, clients: o.clients, windowMs: o.baselineWindowMs }
  } finally {
    for (const ws of pubs) ws.terminate()
    await fleets?.stop()
    await Promise.allSettled(servers.map((s) => s.stop()))
  }
}

/**
 * @param {ScenarioOptions} o
 * @returns {Promise<LifelineResult>}
 */
export async function lifelineScenario(o) {
  const [{ startCluster }, { createClient }] = await Promise.all([
    import('@lifeline/devserver'),
    import('@lifeline/sdk'),
  ])
  const cluster = await startCluster({ nodes: 3, port: 0, store: 'memory' })
  /** @type {Awaited<ReturnType<typeof startFleets>> | undefined} */
  let fleets
  /** @type {import('@lifeline/sdk').LifelineClient | undefined} */
  let publisher
  /** @type {string | null} */
  let frozen = null
  try {
    fleets = await startFleets({ kind: 'lifeline', urls: [cluster.url], count: o.clients, rooms: o.rooms })
    progress(o.row, `lifeline: ${o.clients} SDK clients on ${cluster.nodes.length} nodes`)
    const pub = createClient({ url: cluster.url, WebSocket: /** @type {import('@lifeline/sdk').WebSocketConstructor} */ (/** @type {unknown} */ (WS)) })
    publisher = pub
    await withTimeout(pub.publish('warmup', { i: 0 }), 10_000, 'publisher warm-up')
    const pubNode = cluster.nodeOf(pub.sessionId ?? '')
    const nodeOfClient = fleets.sessions.map((s) => (s === null ? undefined : cluster.nodeOf(s)))
    /** @type {Map<string | undefined, number>} */
    const load = new Map()
    for (const n of nodeOfClient) if (n !== pubNode) load.set(n, (load.get(n) ?? 0) + 1)
    const target = [...load.entries()].sort((a, b) => b[1] - a[1])[0]?.[0]
    if (target === undefined) throw new Error('no node other than the publisher’s serves clients')
    const affected = nodeOfClient.flatMap((n, i) => (n === target ? [i] : []))

    /** @type {Set<Promise<void>>} */
    const inflight = new Set()
    /** @type {Record<string, number>} Rejected publishes by error code (OUTBOX_FULL, …): the publisher's own trouble, counted apart from delivery. */
    const publishErrors = {}
    const pacer = startPacer({
      rate: o.rate,
      rooms: o.rooms,
      send: (room, i) => {
        const p = pub.publish(room, { room, i }).catch((/** @type {{ code?: string } | null} */ e) => {
          const code = e?.code ?? 'unknown'
          publishErrors[code] = (publishErrors[code] ?? 0) + 1
        })
        inflight.add(p)
        p.finally(() => inflight.delete(p))
      },
    })
    await sleep(o.warmMs)
    const markT = Date.now()
    if (o.fault === 'kill') await cluster.kill(target)
    else if (o.fault === 'drain') await cluster.drain(target)
    else {
      frozen = target
      await cluster.freeze(target)
    }
    progress(o.row, `lifeline: ${o.fault} node ${target} (${affected.length} clients)`)
    await sleep(Math.max(0, markT + o.windowMs - Date.now()))
    pacer.stop()
    await withTimeout(Promise.allSettled([...inflight]), o.settleMs, 'publisher acks').catch(() => {})
    const reports = await fleets.report({ markT, expected: pacer.published, waitMs: o.settleMs }, o.settleMs + 30_000)
    return {
      ...tally(reports, affected, markT),
      published: pacer.sent,
      publishErrors,
      /** Publishes still unacknowledged after the settle wait: a stalled publisher, not a lossy delivery. */
      unacked: inflight.size,
      clients: o.clients,
      windowMs: o.windowMs,
      node: target,
    }
  } finally {
    if (frozen !== null) await cluster.thaw(frozen).catch(() => {})
    await publisher?.close().catch(() => {})
    await fleets?.stop()
    await cluster.stop()
  }
}
