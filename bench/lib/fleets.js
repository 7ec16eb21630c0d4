/**
 * Client fleets split over child processes: up to `perFleet` clients each (1,000 SDK clients in one process on a
 * 2-core machine would measure that process's event loop, not the failover), and helpers over their reports.
 */
import { addCounts } from '@lifeline/devserver/testing/ledger'
import { startChild } from './proc.js'
import { summary } from './stats.js'

/** @typedef {import('./client-fleet.js').ClientReport} ClientReport */

/**
 * Start ceil(count / perFleet) fleets and connect `count` clients (global index 0..count-1) across them.
 * @param {{ kind: 'lifeline' | 'partysocket', urls: string[], count: number, rooms: number, perFleet?: number, timeoutMs?: number }} options
 */
export async function startFleets({ kind, urls, count, rooms, perFleet = 500, timeoutMs = 120_000 }) {
  /** @type {{ first: number, n: number, child: import('./proc.js').Child }[]} */
  const fleets = []
  for (let first = 0; first < count; first += perFleet) {
    const n = Math.min(perFleet, count - first)
    fleets.push({ first, n, child: await startChild('client-fleet.js') })
  }
  const results = await Promise.all(
    fleets.map(
      async (f) =>
        /** @type {{ connected: number, sessions: (string | null)[] }} */ (
          await f.child.call('connect', { kind, urls, count: f.n, firstIndex: f.first, rooms, timeoutMs }, timeoutMs + 5_000)
        ),
    ),
  )
  return {
    /** Session id of each client by global index (null for the baseline, which has none). */
    sessions: results.flatMap((r) => r.sessions),
    /**
     * Per-client summaries by global index; see client-fleet.js `report`.
     * @param {{ markT: number, expected: Record<string, number>, waitMs: number }} args
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
