/**
 * The fault rows' second baseline (failover and drain): Socket.IO as apps deploy it for this, 3 Socket.IO
 * servers (socketio-server.js: Redis Streams adapter, connection state recovery) on one redis-server, socket.io-client
 * fleets (reconnectionDelay 100 ms; client i starts on server i % 3 and walks the list on each retry, like the
 * partysocket baseline), a publisher (its own child) emitting to server 2, which sends through the adapter
 * to every server's members of the room. The fault goes to server 0, like the plain baseline's.
 * CPU as in fault-scenario.js: the servers and redis-server are children of this process.
 */
import { startRedis } from './redis.js'
import { serverTrioScenario } from './fault-scenario.js'

/** @typedef {import('./fault-scenario.js').BaselineResult & { recovered: number }} SocketioResult  recovered: affected clients whose reconnect had `socket.recovered` */

/**
 * @param {import('./fault-scenario.js').ScenarioOptions} o
 * @returns {Promise<SocketioResult>}
 */
export async function socketioScenario(o) {
  if (o.fault === 'freeze') throw new Error('the Socket.IO baseline is run for kill and drain only')
  const redis = await startRedis()
  if (!redis) throw new Error('redis-server is not installed')
  try {
    const { reports, affectedIds, ...result } = await serverTrioScenario(o, {
      name: 'socket.io',
      script: 'socketio-server.js',
      env: { BENCH_REDIS: redis.url },
      scheme: 'http',
      kind: 'socketio',
      publisher: 'socketio',
      publishTo: (urls) => [urls[2] ?? ''],
      windowMs: o.windowMs,
      settleMs: 1_000,
      // A recovered session gets what it missed at its reconnect; a lost one never will: a short wait only.
      reportWaitMs: 1_000,
    })
    const recovered = affectedIds.filter((i) => reports[i]?.drops[0]?.recovered === true).length
    return { ...result, recovered }
  } finally {
    await redis.stop()
  }
}
