/**
 * Client fleets split over child processes: up to `perFleet` clients each (1,000 SDK clients in one process on a
 * 2-core machine would measure that process's event loop, not the failover), and helpers over their reports.
 */
import { addCounts } from '@lifeline/devserver/testing/ledger'
import { startChild } from './proc.js'
import { summary } from './stats.js'

/** @typedef {import('./client-fleet.js').ClientReport} ClientReport */
/** @typedef {{ sent: number, acked: number, failed: number }} Upstream  upstream messages of a fleet (client-fleet.js) */

/**
 * @typedef {object} FleetOptions
 * @property {import('./client-fleet.js').Kind} kind
 * @property {string[]} urls
 * @property {number} count
 * @property {number} rooms
 * @property {number} [perFleet]  clients per child process (default 500, or env BENCH_PER_FLEET)
 * @property {number} [timeoutMs]
 * @property {number} [nofile]  open-file limit of each fleet process (proc.js startChild)
 * @property {import('partysocket/ws').Options} [partysocket]  partysocket options (default: its defaults)
 */

/**
 * Start ceil(count / perFleet) fleets and connect `count` clients (global index 0..count-1) across them.
 * A fleet that fails to start or connect stops them all before the error is thrown.
 * @param {FleetOptions} options
 */
export async function startFleets({ kind, urls, count, rooms, perFleet = Number(process.env.BENCH_PER_FLEET ?? 500), timeoutMs = 120_000, nofile, partysocket }) {
  /** @type {{ first: number, n: number, child: import('./proc.js').Child }[]} */
  const fleets = []
  const stopAll = () => Promise.allSettled(fleets.map((f) => f.child.stop()))
  /** @type {{ connected: number, sessions: (string | null)[] }[]} */
  let results
  try {
    for (let first = 0; first < count; first += perFleet) {
      const n = Math.min(perFleet, count - first)
      fleets.push({ first, n, child: await startChild('client-fleet.js', { nofile }) })
    }
    results = await Promise.all(
      fleets.map(
        async (f) =>
          /** @type {{ connected: number, sessions: (string | null)[] }} */ (
            await f.child.call('connect', { kind, urls, count: f.n, firstIndex: f.first, rooms, timeoutMs, partysocket }, timeoutMs + 5_000)
          ),
      ),
    )
  } catch (e) {
    await stopAll()
    throw e
  }
  return {
    /** The fleets' process ids (CPU accounting). */
    pids: fleets.map((f) => f.child.pid),
    /**
     * Every client sends `rate` messages/s upstream from now on (client-fleet.js `upstream`).
     * @param {number} rate
     */
    async upstream(rate) {
      await Promise.all(fleets.map((f) => f.child.call('upstream', { rate }, 10_000)))
    },
    /**
     * The fleets' event-loop delay (ms, worst fleet) since the last call with `reset`: a fleet that could not
     * keep up with its clients makes their figures its own.
     * @param {boolean} [reset]
     */
    async lag(reset = false) {
      const parts = await Promise.all(fleets.map(async (f) => /** @type {{ p99: number, max: number }} */ (await f.child.call('lag', { reset }, 10_000))))
      return { p99: Math.max(0, ...parts.map((p) => p.p99)), max: Math.max(0, ...parts.map((p) => p.max)) }
    },
    /** Stop the upstream senders; their totals over the fleets. */
    async upstreamStop() {
      const parts = await Promise.all(fleets.map(async (f) => /** @type {Upstream} */ (await f.child.call('upstreamStop', {}, 10_000))))
      return parts.reduce((a, p) => ({ sent: a.sent + p.sent, acked: a.acked + p.acked, failed: a.failed + p.failed }), { sent: 0, acked: 0, failed: 0 })
    },
    /** Session id of each client by global index (null for the baseline, which has none). */
    sessions: results.flatMap((r) => r.sessions),
    /**
     * Per-client summaries by global index; see client-fleet.js `report`.
     * @param {{ markT: number, marks?: number[], expected: Record<string, number>, waitMs: number }} args
     * @param {number} timeoutMs
     * @returns {Promise<ClientReport[]>}
     */
    async report(args, timeoutMs) {
      const parts = await Promise.all(fleets.map(async (f) => /** @type {ClientReport[]} */ (await f.child.call('report', args, timeoutMs))))
      return parts.flat()
    },
    async stop() {
      await Promise.allSettled(fleets.map((f) => f.child.call('close', {}, 10_000)))
      await Promise.allSettled(fleets.map((f) => f.child.stop()))
    },
  }
}

/**
 * Resume times (ms after `markT`) of the affected clients, with Infinity for one that never came back within
 * the window, and the message counts over all clients (the ledger's, summed over the fleets).
 * @param {readonly ClientReport[]} reports
 * @param {readonly number[]} affected  global indexes of the clients on the faulted node
 * @param {number} markT
 */
export function tally(reports, affected, markT) {
  /** @type {number[]} */
  const times = []
  /** @type {number[]} */
  const detect = []
  for (const i of affected) {
    const r = reports[i]
    times.push(r && r.up !== null ? r.up - markT : Infinity)
    if (r && r.down !== null) detect.push(r.down - markT)
  }
  const hit = new Set(affected)
  return {
    affected: affected.length,
    resumed: times.filter(Number.isFinite).length,
    times,
    /** When each affected client noticed (its connection dropped), ms after markT: detection vs reconnect. */
    detect: summary(detect),
    /** The affected clients' resumes split into backoff, connect (TCP + upgrade) and hello → welcome (Lifeline only). */
    phases: {
      backoff: summary(affected.flatMap((i) => reports[i]?.phases?.backoff ?? [])),
      connect: summary(affected.flatMap((i) => reports[i]?.phases?.connect ?? [])),
      welcome: summary(affected.flatMap((i) => reports[i]?.phases?.welcome ?? [])),
    },
    /** State changes per affected client from drop to resume (Lifeline only): more than 2 means retries. */
    hops: summary(affected.map((i) => reports[i]?.hops ?? 0)),
    /** Clients missing at least one message, on the faulted node and elsewhere (a stalled fleet shows here). */
    clientsMissing: {
      affected: reports.filter((r, i) => r.counts.lost > 0 && hit.has(i)).length,
      others: reports.filter((r, i) => r.counts.lost > 0 && !hit.has(i)).length,
    },
    /** Every client's counts added up: expected = deliveries, lost, duplicated, outOfOrder, gaps … */
    counts: addCounts(...reports.map((r) => r.counts)),
  }
}
