/**
 * Row "faults": what network faults cost a node that is not impaired. The throughput row's measurement (one
 * node, N raw subscribers of one topic, bench/rows/throughput.js `measure`) three ways, side by side:
 *   never      faults never used: every connection on its direct path (a node tests one field per frame);
 *   healed     every connection impaired, then healed before the measurement: back on the direct path;
 *   latency 0  every connection impaired with `{ latencyMs: 0 }`: each frame through its delay line
 *              (node/link.ts), scheduled, and delivered at once. What the shaping machinery itself costs.
 * The impairment is set the way cluster.impair sets it in a node process (node.faults, node/faults.ts).
 * Target: healed ≥ 0.9× never (no measurable cost once healed, within this machine's noise); latency 0 is reported.
 */
import { attempt, failed, count } from '../lib/line.js'
import { ratio } from '../lib/stats.js'
import { measure } from './throughput.js'

/** Run-to-run noise on this 2-core machine is 10–20%; a real cost would show past it. */
const TARGET = 0.9

/** @typedef {Awaited<ReturnType<typeof attempt<import('./throughput.js').Measured>>>} Round */

/** @param {{ quick: boolean }} options */
export async function run({ quick }) {
  const subscribers = quick ? 50 : 200
  const publishMs = quick ? 1_000 : 3_000
  // Alternated, each side's median kept (as the throughput row does), so drift spreads over all three.
  const rounds = quick ? 1 : 3
  const env = { BENCH_STORE: 'memory' }
  /** @type {Record<'never' | 'healed' | 'zero', Round[]>} */
  const runs = { never: [], healed: [], zero: [] }
  for (let k = 0; k < rounds; k++) {
    runs.never.push(await attempt(() => measure('lifeline', env, subscribers, publishMs, { label: 'faults never used' })))
    runs.healed.push(
      await attempt(() =>
        measure('lifeline', env, subscribers, publishMs, {
          label: 'impaired, then healed',
          connected: async (server) => {
            await server.call('impair', { latencyMs: 50 })
            await server.call('heal')
          },
        }),
      ),
    )
    runs.zero.push(await attempt(() => measure('lifeline', env, subscribers, publishMs, { label: 'impair { latencyMs: 0 }', connected: (server) => server.call('impair', { latencyMs: 0 }) })))
  }
  const never = median(runs.never)
  const healed = median(runs.healed)
  const zero = median(runs.zero)
  /** @param {Round} x */
  const fmt = (x) => (x.error !== undefined ? failed(x) : `${count(x.perSecond)} msg/s`)
  const healedRatio = ratio(healed.perSecond, never.perSecond)
  const what = `msg/s to ${subscribers} subscribers, one node`
  return {
    lines: [
      {
        row: 'faults',
        measure: `${what}: impaired then healed vs faults never used`,
        lifeline: fmt(healed),
        baseline: fmt(never),
        ratio: healedRatio,
        target: `≥ ${TARGET}× never used`,
        holds: healedRatio === null ? null : healedRatio >= TARGET,
      },
      {
        row: 'faults',
        measure: `${what}: impair { latencyMs: 0 } (every frame through a delay line) vs never used`,
        lifeline: fmt(zero),
        baseline: fmt(never),
        ratio: ratio(zero.perSecond, never.perSecond),
        target: 'none (reported)',
        holds: null,
      },
    ],
    details: { subscribers, publishMs, rounds, runs },
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
