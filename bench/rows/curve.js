/**
 * Row "curve" (full runs only): what a failover and a drain cost as the client count grows. Lifeline on the
 * devserver, as in the failover and drain rows (lib/fault-scenario.js lifelineScenario: startCluster with 3
 * nodes and the memory store, one room per 50 clients, 200 msg/s), at 200, 1,000, 2,000 and 5,000 clients; for
 * each, a SIGKILL run and a drain run. Per run: resume p50/p95/p99, lost / duplicated, CPU s per 1,000 delivered
 * (servers / clients), and whether the machine saturated: the whole machine's CPU at or above 90% of its cores,
 * or a client fleet whose event loop lagged (p99 over 200 ms: it could not keep up, and its clients' figures are
 * its own), or clients not on the faulted node missing messages (a stalled fleet again).
 * The balancer runs in the row's process and holds two sockets per client (client and node side): 5,000 clients
 * need about 10,000 descriptors there. If `ulimit -n` is below what a size needs (it cannot be raised from inside
 * a running Node process), that size is skipped and the row says so.
 * No target: the figures are the curve.
 */
import { execFileSync } from 'node:child_process'
import { lifelineScenario } from '../lib/fault-scenario.js'
import { attempt, failed, count } from '../lib/line.js'
import { summary } from '../lib/stats.js'
import { perThousandText } from '../lib/cpu.js'
import { progress } from '../lib/log.js'

const SIZES = [200, 1_000, 2_000, 5_000]
/** Clients per fleet process: 5,000 SDK clients in 5 processes next to the cluster on 2 cores. */
const PER_FLEET = 1_000
/** Lag (event-loop delay p99, ms) past which a fleet is taken as not keeping up. */
const LAG_MS = 200

/** @param {{ quick: boolean }} options */
export async function run({ quick }) {
  if (quick) {
    return {
      lines: [{ row: 'curve', measure: `failover and drain cost at ${SIZES.map(count).join(' / ')} clients`, lifeline: 'runs in full runs only', baseline: '—', ratio: null, target: 'none (reported)', holds: null }],
      details: { skipped: 'quick run' },
    }
  }
  const soft = nofileLimit()
  /** @type {import('../lib/line.js').Line[]} */
  const lines = []
  /** @type {Record<string, unknown>} */
  const details = { nofile: soft }
  for (const clients of SIZES) {
    for (const fault of /** @type {const} */ (['kill', 'drain'])) {
      const { line, detail } = await measureOne(clients, fault, soft)
      lines.push(line)
      details[`${clients} ${fault}`] = detail
    }
  }
  return { lines, details }
}

/**
 * One size and fault: its table line and its details.
 * @param {number} clients
 * @param {'kill' | 'drain'} fault
 * @param {number | null} soft  the open-file limit
 * @returns {Promise<{ line: import('../lib/line.js').Line, detail: unknown }>}
 */
export async function measureOne(clients, fault, soft = nofileLimit()) {
  const measure = `${count(clients)} clients, ${fault === 'kill' ? 'SIGKILL' : 'drain'}: resume ms p50/p95/p99; lost / dup; CPU s per 1,000 delivered (servers / clients); saturated`
  const line = { row: 'curve', measure, baseline: '—', ratio: null, target: 'none (reported)', holds: null }
  const need = 2 * clients + 1_000
  if (soft !== null && soft < need) {
    const why = `skipped: ulimit -n is ${soft}, the balancer needs about ${need}`
    return { line: { ...line, lifeline: why }, detail: { skipped: why } }
  }
  progress('curve', `${clients} clients, ${fault}`)
  const r = await attempt(() => lifelineScenario({ ...sizes(clients), fault, row: `curve ${clients}`, perFleet: PER_FLEET }))
  if (r.error !== undefined) return { line: { ...line, lifeline: failed(r) }, detail: r }
  return { line: { ...line, lifeline: cell(r) }, detail: { ...r, times: summary(r.times), saturated: saturation(r) } }
}

/**
 * The failover row's full sizes (lib/fault-sizes.js), at `clients`.
 * @param {number} clients
 */
function sizes(clients) {
  return { clients, rooms: Math.max(2, Math.round(clients / 50)), rate: 200, warmMs: 3_000, windowMs: 6_000, baselineWindowMs: 6_000, settleMs: 10_000 }
}

/** @param {import('../lib/fault-scenario.js').LifelineResult} r */
function cell(r) {
  const s = summary(r.times)
  const never = r.affected - r.resumed
  const why = saturation(r)
  return (
    `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.p99)} (n=${r.affected}${never ? `, ${never} never` : ''}); ` +
    `${count(r.counts.lost)} / ${count(r.counts.duplicated)} of ${count(r.counts.expected)}; ` +
    `${perThousandText(r.cpu, r.counts.expected - r.counts.lost)}; ` +
    `${why.length ? `yes: ${why.join(', ')}` : 'no'} (CPU ${r.cpu.percent}% this row, ${r.cpu.machinePercent}% machine, of ${100 * r.cpu.cores}%; fleet lag p99 ${r.fleetLag.p99} ms)`
  )
}

/**
 * Why the machine was saturated during a run, or [] if it was not.
 * @param {import('../lib/fault-scenario.js').LifelineResult} r
 */
function saturation(r) {
  const full = 90 * r.cpu.cores
  return [
    r.cpu.machinePercent >= full ? 'machine CPU ≥ 90%' : '',
    r.fleetLag.p99 > LAG_MS ? `fleet lag p99 > ${LAG_MS} ms` : '',
    r.clientsMissing.others > 0 ? `${r.clientsMissing.others} unaffected clients missing messages` : '',
  ].filter(Boolean)
}

/** @param {number | null} v */
const ms = (v) => (v !== null && Number.isFinite(v) ? String(v) : '∞')

/** This process's soft open-file limit (a child shell inherits it), or null if it cannot be read. */
function nofileLimit() {
  try {
    const n = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim())
    return Number.isFinite(n) ? n : null
  } catch {
    return null
  }
}
