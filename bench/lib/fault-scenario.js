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

const SIGNAL = { kill: 'SIGKILL', drain: 'SIGTERM', freeze: 'SIGSTOP' }

/** @param {{fault: 'kill'|'drain'|'freeze', clients: number, rooms: number, rate: number, warmMs: number, windowMs: number, settleMs: number, row: string}} o */
export async function baselineScenario(o) {
  const servers = []
  let fleets
  const pubs = []
  try {
    for (let k = 0; k < 3; k++) servers.push(await startChild('plain-server.js'))
    const urls = []
    for (const s of servers) urls.push(`ws://127.0.0.1:${(await s.call('info')).port}`)
    fleets = await startFleets({ kind: 'partysocket', urls, count: o.clients, rooms: o.rooms })
    progress(o.row, `baseline: ${o.clients} partysocket clients on 3 plain ws servers`)
    for (const url of urls) {
      const ws = new WS(url)
      ws.on('error', () => {})
      await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)))
      pubs.push(ws)
    }
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
    servers[0].signal(SIGNAL[o.fault])
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

export async function lifelineScenario(o) {
  const [{ startCluster }, { createClient }] = await Promise.all([
    import('@lifeline/devserver'),
    import('@lifeline/sdk'),
  ])
  const cluster = await startCluster({ nodes: 3, port: 0, store: 'memory' })
  let fleets
  let publisher
  let frozen = null
  try {
    fleets = await startFleets({ kind: 'lifeline', urls: [cluster.url], count: o.clients, rooms: o.rooms })
    progress(o.row, `lifeline: ${o.clients} SDK clients on ${cluster.nodes.length} nodes`)
    publisher = createClient({ url: cluster.url, WebSocket: WS })
    await withTimeout(publisher.publish('warmup', { i: 0 }), 10_000, 'publisher warm-up')
    const pubNode = cluster.nodeOf(publisher.sessionId)
    const nodeOfClient = fleets.sessions.map((s) => cluster.nodeOf(s))
    const load = new Map()
    for (const n of nodeOfClient) if (n !== pubNode) load.set(n, (load.get(n) ?? 0) + 1)
    const target = [...load.entries()].sort((a, b) => b[1] - a[1])[0]?.[0]
    if (target === undefined) throw new Error('no node other than the publisher’s serves clients')
    const affected = nodeOfClient.flatMap((n, i) => (n === target ? [i] : []))

    const inflight = new Set()
    /** Rejected publishes by error code (OUTBOX_FULL, …): the publisher's own trouble, counted apart from delivery. */
    const publishErrors = {}
    const pacer = startPacer({
      rate: o.rate,
      rooms: o.rooms,
      send: (room, i) => {
        const p = publisher.publish(room, { room, i }).catch((e) => {
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
