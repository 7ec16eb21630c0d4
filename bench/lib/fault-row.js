/**
 * Turns a fault scenario (fault-scenario.js) run side by side into table lines: resume times and message
 * counts, Lifeline against the baseline. Shared by rows/failover.js, rows/drain.js and rows/frozen.js.
 */
import { baselineScenario, lifelineScenario } from './fault-scenario.js'
import { summary, ratio } from './stats.js'
import { attempt, failed, count } from './line.js'
import { progress } from './log.js'

/**
 * @typedef {object} FaultRowOptions  the scenario's options (fault-scenario.js) and:
 * @property {string} signal  shown in the measure column
 * @property {'p99' | 'max'} stat  which resume statistic the target applies to
 * @property {number} targetMs
 * @property {boolean} dupTarget  whether 0 duplicates is part of this row's target
 */

/** @typedef {import('./fault-scenario.js').BaselineResult | import('./fault-scenario.js').LifelineResult} Result */
/** @typedef {Result & { s: import('./stats.js').Summary }} Summarised */

/**
 * @param {import('./fault-scenario.js').ScenarioOptions & FaultRowOptions} o
 * @returns {Promise<{ lines: import('./line.js').Line[], details: object }>}
 */
export async function faultRow(o) {
  progress(o.row, `baseline (${o.clients} clients, ${o.rate} msg/s over ${o.rooms} rooms)`)
  const base = await attempt(() => baselineScenario(o))
  progress(o.row, 'lifeline')
  const life = await attempt(() => lifelineScenario(o))
  /** @type {Summarised | null} */
  const b = base.error !== undefined ? null : { ...base, s: summary(base.times) }
  /** @type {Summarised | null} */
  const l = life.error !== undefined ? null : { ...life, s: summary(life.times) }
  /** @param {Summarised} x */
  const fmt = (x) =>
    x.s.n === 0
      ? 'no affected client'
      : x.resumed === 0
        ? `none resumed within ${x.windowMs} ms`
        : `${ms(x.s.p50)} / ${ms(x.s.p95)} / ${ms(x.s.p99)} / ${ms(x.s.max)}` +
          (x.resumed < x.affected ? ` (${x.affected - x.resumed} of ${x.affected} never)` : ` (n=${x.affected})`)
  /** @param {Summarised | null} x */
  const stat = (x) => (x && Number.isFinite(x.s[o.stat]) ? x.s[o.stat] : null)
  const lines = [
    {
      row: o.row,
      measure: `resume after ${o.signal}, ms p50/p95/p99/max`,
      lifeline: l ? fmt(l) : failed(life),
      baseline: b ? fmt(b) : failed(base),
      ratio: ratio(stat(l), stat(b)),
      target: `${o.stat} ≤ ${o.targetMs} ms`,
      holds: l ? l.affected > 0 && l.resumed === l.affected && (l.s[o.stat] ?? Infinity) <= o.targetMs : null,
    },
    {
      row: o.row,
      measure: 'messages lost / duplicated',
      lifeline: l ? counts(l) : failed(life),
      baseline: b ? counts(b) : failed(base),
      ratio: null,
      target: o.dupTarget ? '0 lost, 0 dup' : '0 lost',
      holds: l ? l.counts.lost === 0 && (!o.dupTarget || l.counts.duplicated === 0) : null,
    },
  ]
  // Raw per-client times are long; the details keep their summary and the detection summary.
  /** @param {(Result & { error?: undefined }) | import('./line.js').Failure<Result>} x */
  const brief = (x) => (x.error === undefined ? { ...x, times: summary(x.times) } : x)
  return { lines, details: { lifeline: brief(life), baseline: brief(base) } }
}

/** @param {number | null} v */
const ms = (v) => (v !== null && Number.isFinite(v) ? String(v) : '∞')

/**
 * "lost / duplicated of deliveries", by the ledger's definitions, and whatever else is not zero.
 * @param {Result} x
 */
function counts(x) {
  const c = x.counts
  const rejected = Object.entries('publishErrors' in x ? x.publishErrors : {}).map(([code, n]) => `${n} publishes rejected ${code}`)
  const extra = [
    c.outOfOrder ? `${c.outOfOrder} out of order` : '',
    c.gaps ? `${c.gaps} gap events` : '',
    c.reported ? `${c.reported} of the lost reported by gap or reset` : '',
    ...rejected,
  ]
    .filter(Boolean)
    .join(', ')
  return `${count(c.lost)} / ${count(c.duplicated)} of ${count(c.expected)} deliveries${extra ? ` (${extra})` : ''}`
}
