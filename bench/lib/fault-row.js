/**
 * Turns a fault scenario (fault-scenario.js) run side by side into table lines: resume times and message
 * counts, Lifeline against the baseline. Shared by rows/failover.js, rows/drain.js and rows/frozen.js.
 */
import { baselineScenario, lifelineScenario } from './fault-scenario.js'
import { summary, ratio } from './stats.js'
import { attempt, failed, count } from './line.js'
import { progress } from './log.js'

/**
 * @param {object} o scenario options (see fault-scenario.js) plus:
 * @param {string} o.signal  shown in the measure column
 * @param {'p99'|'max'} o.stat  which resume statistic the target applies to
 * @param {number} o.targetMs
 * @param {boolean} o.dupTarget  whether 0 duplicates is part of this row's target
 */
export async function faultRow(o) {
  progress(o.row, `baseline (${o.clients} clients, ${o.rate} msg/s over ${o.rooms} rooms)`)
  const base = await attempt(() => baselineScenario(o))
  progress(o.row, 'lifeline')
  const life = await attempt(() => lifelineScenario(o))
  const b = base.error ? null : { ...base, s: summary(base.times) }
  const l = life.error ? null : { ...life, s: summary(life.times) }
  const fmt = (x) =>
    x.s.n === 0
      ? 'no affected client'
      : x.resumed === 0
        ? `none resumed within ${x.windowMs} ms`
        : `${ms(x.s.p50)} / ${ms(x.s.p95)} / ${ms(x.s.p99)} / ${ms(x.s.max)}` +
          (x.resumed < x.affected ? ` (${x.affected - x.resumed} of ${x.affected} never)` : ` (n=${x.affected})`)
  const stat = (x) => (x && Number.isFinite(x.s[o.stat]) ? x.s[o.stat] : null)
  const lines = [
    {
      row: o.row,
      measure: `resume after ${o.signal}, ms p50/p95/p99/max`,
      lifeline: l ? fmt(l) : failed(life),
      baseline: b ? fmt(b) : failed(base),
      ratio: ratio(stat(l), stat(b)),
      target: `${o.stat} ≤ ${o.targetMs} ms`,
      holds: l ? l.affected > 0 && l.resumed === l.affected && l.s[o.stat] <= o.targetMs : null,
    },
    {
      row: o.row,
      measure: 'messages lost / duplicated',
      lifeline: l ? counts(l) : failed(life),
      baseline: b ? counts(b) : failed(base),
      ratio: null,
      target: o.dupTarget ? '0 lost, 0 dup' : '0 lost',
      holds: l ? l.lost === 0 && (!o.dupTarget || l.dup === 0) : null,
    },
  ]
  // Raw per-client times are long; the details keep their summary and the detection summary.
  const brief = (x) => (x.error ? x : { ...x, times: summary(x.times) })
  return { lines, details: { lifeline: brief(life), baseline: brief(base) } }
}

const ms = (v) => (Number.isFinite(v) ? String(v) : '∞')

function counts(x) {
  const rejected = Object.entries(x.publishErrors ?? {}).map(([code, n]) => `${n} publishes rejected ${code}`)
  const extra = [x.disorder ? `${x.disorder} out of order` : '', x.gaps ? `${x.gaps} gap events` : '', ...rejected]
    .filter(Boolean)
    .join(', ')
  return `${count(x.lost)} / ${count(x.dup)} of ${count(x.deliveries)} deliveries${extra ? ` (${extra})` : ''}`
}
