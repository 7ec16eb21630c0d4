/**
 * Row "throughput": messages/s delivered through one node to N subscribers of one topic, ~100-byte frames, for
 * a fixed time; the publisher keeps at most 200 messages beyond the slowest subscriber (raw-fleet.js `blast`). Lifeline with the memory store and with the Redis
 * store, against a plain `ws` server doing the same fan-out. Subscribers are raw sockets counting frames
 * (raw-fleet.js), so the figure is the server's. Targets (issue 12, speed under load): memory store ≥ 1.0× plain ws,
 * Redis store ≥ 0.9×.
 */
import { exactlyOnceViolations } from '@lifeline/devserver/testing/ledger'
import { startChild } from '../lib/proc.js'
import { startRedis, redisInstalled } from '../lib/redis.js'
import { attempt, failed, count } from '../lib/line.js'
import { ratio } from '../lib/stats.js'
import { progress } from '../lib/log.js'

const TARGET = 1.0
const REDIS_TARGET = 0.9

/** @typedef {Awaited<ReturnType<typeof attempt<Measured>>>} Round */

/** @param {{ quick: boolean }} options */
export async function run({ quick }) {
  const subscribers = quick ? 50 : 200
  /** Publishing time per measurement; the rate is deliveries over the time until the last one arrived. */
  const publishMs = quick ? 1_000 : 3_000
  // Full runs alternate the sides three times and keep each side's median: this machine drifts by 20% or so
  // between seconds, and alternating spreads the drift over both sides.
  const rounds = quick ? 1 : 3
  /** @type {Awaited<ReturnType<typeof startRedis>> | { error: string }} */
  const redisServer = redisInstalled() ? await startRedis().catch((/** @type {Error} */ e) => ({ error: String(e.message) })) : null
  /** @type {{ plain: Round[], memory: Round[], redis: Round[] }} */
  const runs = { plain: [], memory: [], redis: [] }
  try {
    for (let k = 0; k < rounds; k++) {
      runs.plain.push(await attempt(() => measure('plain', {}, subscribers, publishMs)))
      runs.memory.push(await attempt(() => measure('lifeline', { BENCH_STORE: 'memory' }, subscribers, publishMs)))
      if (redisServer && 'url' in redisServer) {
        const url = redisServer.url
        runs.redis.push(await attempt(() => measure('lifeline', { BENCH_STORE: url }, subscribers, publishMs)))
      }
    }
  } finally {
    if (redisServer && 'stop' in redisServer) await redisServer.stop()
  }
  const base = median(runs.plain)
  const mem = median(runs.memory)
  /** @type {Round | { skipped: string, error?: undefined, perSecond?: undefined }} */
  const redis = !redisServer
    ? { skipped: 'skipped: redis-server not installed' }
    : 'error' in redisServer
      ? { error: redisServer.error }
      : median(runs.redis)
  /** @param {Round} x */
  const fmt = (x) => (x.error !== undefined ? failed(x) : `${count(x.perSecond)} msg/s`)
  // A round that failed is not hidden by the median of the others: the line says which and why.
  const failures = Object.entries(runs).flatMap(([side, rs]) =>
    rs.flatMap((r, k) => (r.error !== undefined ? [`${side} round ${k + 1}: ${r.error.slice(0, 200)}`] : [])),
  )
  const note = failures.length ? { note: `median of the rounds that completed; ${failures.join('; ')}` } : {}
  const r = ratio(mem.perSecond, base.perSecond)
  const rRedis = 'skipped' in redis ? null : ratio(redis.perSecond, base.perSecond)
  const what = `msg/s to ${subscribers} subscribers`
  return {
    lines: [
      { row: 'throughput', measure: `${what}, memory store`, lifeline: fmt(mem), baseline: fmt(base), ratio: r, target: `≥ ${TARGET}× plain ws`, holds: r === null ? null : r >= TARGET, ...note },
      {
        row: 'throughput',
        measure: `${what}, Redis store`,
        lifeline: 'skipped' in redis ? redis.skipped : fmt(redis),
        baseline: fmt(base),
        ratio: rRedis,
        target: `≥ ${REDIS_TARGET}× plain ws`,
        holds: rRedis === null ? null : rRedis >= REDIS_TARGET,
      },
    ],
    details: { subscribers, publishMs, rounds, runs },
  }
}

/**
 * @typedef {object} Blast  what raw-fleet.js `blast` returns
 * @property {number} t0
 * @property {number} doneAt
 * @property {number} sent
 * @property {number} total  deliveries counted, at most `sent` per socket
 * @property {number} open
 * @property {Record<string, number>} closes
 * @property {import('@lifeline/devserver/testing/ledger').Counts} counts
 */

/** @typedef {{ perSecond: number, deliveries: number, seconds: number, counts: Blast['counts'] }} Measured */

/**
 * One measurement (also the faults row's, bench/rows/faults.js).
 * @param {'plain' | 'lifeline'} kind
 * @param {{ BENCH_STORE?: string }} env
 * @param {number} subscribers
 * @param {number} publishMs
 * @param {{ label?: string, connected?: (server: import('../lib/proc.js').Child) => Promise<unknown> }} [hooks]  `connected`: runs once the subscribers are connected, before the warm-up (the publisher connects after it)
 * @returns {Promise<Measured>}
 */
export async function measure(kind, env, subscribers, publishMs, hooks = {}) {
  const label = hooks.label ?? (kind === 'plain' ? 'plain ws' : `lifeline ${(env.BENCH_STORE ?? '').replace(/:\d+$/, '')}`)
  const server = await startChild(kind === 'plain' ? 'plain-server.js' : 'lifeline-node.js', { env })
  const fleet = await startChild('raw-fleet.js')
  try {
    const url = `ws://127.0.0.1:${/** @type {{ port: number }} */ (await server.call('info')).port}`
    await fleet.call('connect', { kind, url, count: subscribers, rooms: 1 }, 60_000)
    await hooks.connected?.(server)
    // Warm-up (JIT, buffers), then the measured run.
    await fleet.call('blast', { kind, url, room: 'room-0', durationMs: 300 }, 40_000)
    const r = /** @type {Blast} */ (await fleet.call('blast', { kind, url, room: 'room-0', durationMs: publishMs }, publishMs + 40_000))
    const seconds = (r.doneAt - r.t0) / 1000
    const perSecond = r.total / seconds
    progress(hooks.label ? 'faults' : 'throughput', `${label}: ${count(r.total)} deliveries in ${seconds.toFixed(2)} s = ${count(perSecond)} msg/s`)
    if (r.counts.lost > 0) throw new Error(`only ${r.counts.received} of ${r.counts.expected} delivered (${r.open} sockets open; closes ${JSON.stringify(r.closes)})`)
    // A figure reached by duplicating or reordering is no figure.
    const wrong = exactlyOnceViolations(r.counts)
    if (wrong.length > 0) throw new Error(`delivered, but ${wrong.join('; ')}`)
    return { perSecond: Math.round(perSecond), deliveries: r.total, seconds, counts: r.counts }
  } finally {
    await fleet.stop()
    await server.stop()
  }
}

/**
 * The median run by rate (the first error if every run failed).
 * @param {Round[]} results
 * @returns {Round}
 */
function median(results) {
  const ok = results.flatMap((r) => (r.error === undefined ? [r] : [])).sort((a, b) => a.perSecond - b.perSecond)
  return ok[Math.floor((ok.length - 1) / 2)] ?? results[0] ?? { error: 'not run' }
}
