/**
 * The fault rows' second baseline (failover and drain): Socket.IO as apps deploy it for this, 3 Socket.IO
 * servers (socketio-server.js: Redis Streams adapter, connection state recovery) on one redis-server, socket.io-client
 * fleets (reconnectionDelay 100 ms; client i starts on server i % 3 and walks the list on each retry, like the
 * partysocket baseline), a publisher (its own child) emitting to server 2, which sends through the adapter
 * to every server's members of the room. The fault goes to server 0, like the plain baseline's.
 * CPU as in fault-scenario.js: the servers and redis-server are children of this process.
 */
import { startChild, sleep } from './proc.js'
import { startFleets, tally } from './fleets.js'
import { startRedis } from './redis.js'
import { openPublisher, sampleCpu } from './fault-scenario.js'
import { progress } from './log.js'

/** @type {Record<'kill' | 'drain', NodeJS.Signals>} */
const SIGNAL = { kill: 'SIGKILL', drain: 'SIGTERM' }

/** @typedef {import('./fault-scenario.js').BaselineResult & { recovered: number }} SocketioResult  recovered: affected clients whose reconnect had `socket.recovered` */

/**
 * @param {import('./fault-scenario.js').ScenarioOptions} o
 * @returns {Promise<SocketioResult>}
 */
export async function socketioScenario(o) {
  if (o.fault === 'freeze') throw new Error('the Socket.IO baseline is run for kill and drain only')
  const redis = await startRedis()
  if (!redis) throw new Error('redis-server is not installed')
  /** @type {import('./proc.js').Child[]} */
  const servers = []
  /** @type {Awaited<ReturnType<typeof startFleets>> | undefined} */
  let fleets
  /** @type {import('./proc.js').Child | undefined} */
  let publisher
  try {
    for (let k = 0; k < 3; k++) servers.push(await startChild('socketio-server.js', { env: { BENCH_REDIS: redis.url } }))
    const urls = []
    for (const s of servers) urls.push(`http://127.0.0.1:${/** @type {{ port: number }} */ (await s.call('info')).port}`)
    fleets = await startFleets({ kind: 'socketio', urls, count: o.clients, rooms: o.rooms })
    progress(o.row, `socket.io: ${o.clients} clients on 3 Socket.IO servers`)
    const pub = (publisher = (await openPublisher('socketio', [urls[2] ?? ''])).child)
    const cpu = sampleCpu(fleets, pub)
    await pub.call('start', { rate: o.rate, rooms: o.rooms })
    await sleep(o.warmMs)
    const affected = [...Array(o.clients).keys()].filter((i) => i % 3 === 0)
    cpu.sample()
    const markT = Date.now()
    servers[0]?.signal(SIGNAL[o.fault])
    progress(o.row, `socket.io: ${SIGNAL[o.fault]} to server 0 (${affected.length} clients)`)
    await sleep(o.windowMs)
    const stopped = /** @type {import('./fault-scenario.js').Published} */ (await pub.call('stop', { settleMs: 1_000 }, 15_000))
    // A recovered session gets what it missed at its reconnect; a lost one never will: a short wait only.
    const reports = await fleets.report({ markT, expected: stopped.published, waitMs: 1_000 }, 30_000)
    const recovered = affected.filter((i) => reports[i]?.drops[0]?.recovered === true).length
    return { ...tally(reports, affected, markT), recovered, published: stopped.sent, clients: o.clients, windowMs: o.windowMs, cpu: cpu.stop() }
  } finally {
    await publisher?.stop()
    await fleets?.stop()
    await Promise.allSettled(servers.map((s) => s.stop()))
    await redis.stop()
  }
}
