/**
 * Turns a fault scenario (fault-scenario.js) run side by side into table lines: resume times, message counts
 * and CPU per 1,000 delivered messages, Lifeline against the baseline and (failover, drain) Socket.IO
 * (socketio-scenario.js). Shared by rows/failover.js, rows/drain.js and rows/frozen.js.
 */
import { baselineScenario, lifelineScenario } from './fault-scenario.js'
import { socketioScenario } from './socketio-scenario.js'
import { summary, ratio } from './stats.js'
import { attempt, failed, count } from './line.js'
import { perThousandText } from './cpu.js'
import { progress } from './log.js'

/**
 * @typedef {object} FaultRowOptions  the scenario's options (fault-scenario.js) and:
 * @property {string} signal  shown in the measure column
 * @property {'p99' | 'max'} stat  which resume statistic the target applies to
 * @property {number} targetMs
 * @property {boolean} dupTarget  whether 0 duplicates is part of this row's target
 * @property {boolean} [socketio]  also run the Socket.IO baseline (kill and drain only)
 */

/** @typedef {import('./fault-scenario.js').BaselineResult | import('./fault-scenario.js').LifelineResult | import('./socketio-scenario.js').SocketioResult} Result */
/** @typedef {Result & { s: import('./stats.js').Summary }} Summarised */

/**
 * @param {import('./fault-scenario.js').ScenarioOptions & FaultRowOptions} o
 * @returns {Promise<{ lines: import('./line.js').Line[], details: object }>}
 */
export async function faultRow(o) {
  progress(o.row, `baseline (${o.clients} clients, ${o.rate} msg/s over ${o.rooms} rooms)`)
  const base = await attempt(() => baselineScenario(o))
  if (o.socketio) progress(o.row, 'socket.io')
  const sio = o.socketio ? await attempt(() => socketioScenario(o)) : null
  progress(o.row, 'lifeline')
  const life = await attempt(() => lifelineScenario(o))
  /** @type {Summarised | null} */
  const b = base.error !== undefined ? null : { ...base, s: summary(base.times) }
  /** @type {Summarised | null} */
  const l = life.error !== undefined ? null : { ...life, s: summary(life.times) }
  /** @type {Summarised | null} */
  const io = !sio || sio.error !== undefined ? null : { ...sio, s: summary(sio.times) }
  /** @param {Summarised} x */
  const fmt = (x) =>
    x.s.n === 0
      ? 'no affected client'
      : x.resumed === 0
        ? `none resumed within ${x.windowMs} ms`
        : `${ms(x.s.p50)} / ${ms(x.s.p95)} / ${ms(x.s.p99)} / ${ms(x.s.max)}` +
          (x.resumed < x.affected ? ` (${x.affected - x.resumed} of ${x.affected} never)` : ` (n=${x.affected})`) +
          ('recovered' in x ? `, ${x.recovered} recovered` : '')
  /** The Socket.IO cell, when this row runs it. @param {(x: Summarised) => string} show */
  const sioCell = (show) => (sio ? { socketio: io ? show(io) : failed(sio) } : {})
  /** @param {Summarised} x */
  const cpu = (x) => perThousandText(x.cpu, x.counts.expected - x.counts.lost)
  /** @param {Summarised | null} x */
  const stat = (x) => (x && Number.isFinite(x.s[o.stat]) ? x.s[o.stat] : null)
  const lines = [
    {
      row: o.row,
      measure: `resume after ${o.signal}, ms p50/p95/p99/max`,
      lifeline: l ? fmt(l) : failed(life),
      baseline: b ? fmt(b) : failed(base),
      ...sioCell(fmt),
      ratio: ratio(stat(l), stat(b)),
      target: `${o.stat} ≤ ${o.targetMs} ms`,
      holds: l ? l.affected > 0 && l.resumed === l.affected && (l.s[o.stat] ?? Infinity) <= o.targetMs : null,
    },
    {
      row: o.row,
      measure: 'messages lost / duplicated',
      lifeline: l ? counts(l) : failed(life),
      baseline: b ? counts(b) : failed(base),
      ...sioCell(counts),
      ratio: null,
      target: o.dupTarget ? '0 lost, 0 dup' : '0 lost',
      holds: l ? l.counts.lost === 0 && (!o.dupTarget || l.counts.duplicated === 0) : null,
    },
    {
      row: o.row,
      // delivered = the ledger's expected deliveries − lost; the window runs from the publisher's start to the last report
      measure: 'CPU s per 1,000 delivered, servers / clients',
      lifeline: l ? cpu(l) : failed(life),
      baseline: b ? cpu(b) : failed(base),
      ...sioCell(cpu),
      ratio: null,
      target: 'none (reported)',
      holds: null,
    },
  ]
  // Raw per-client times are long; the details keep their summary and the detection summary.
  /** @param {(Result & { error?: undefined }) | import('./line.js').Failure<Result>} x */
  const brief = (x) => (x.error === undefined ? { ...x, times: summary(x.times) } : x)
  return { lines, details: { lifeline: brief(life), baseline: brief(base), ...(sio ? { socketio: brief(sio) } : {}) } }
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
