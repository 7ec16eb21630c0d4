/**
 * Row "production": the deployment path of docs/deployment.md, side by side for three systems on the same
 * machinery: one redis-server, HAProxy 2.6 (examples/haproxy/haproxy.cfg, unchanged) in front of 3 server
 * processes on that Redis:
 *  - Lifeline standalone nodes (dist/node/main.js, Redis store);
 *  - Socket.IO 4.8 + Redis Streams adapter + connection state recovery (the "Socket.IO" column);
 *  - plain ws relaying through Redis pub/sub, partysocket clients with minReconnectionDelay 100 ms, no replay
 *    (the "baseline" column here).
 * Scenario (lib/production-scenario.js): N clients through HAProxy in one room, a publisher on server 3 at
 * 50 msg/s, every client sending 5 msg/s upstream; SIGKILL server 1, later SIGTERM server 2.
 * Targets: 200 clients (and --quick's 100): Lifeline's reconnect p95 ≤ 1.2× the ws baseline's, after each fault,
 * and 0 lost; 500 clients: p95 ≤ 1.5 s after each fault and no false HAProxy mark-down.
 * Full: 200 and 500 clients, up to 3 repetitions while the row's time budget lasts (figures pool the
 * repetitions); --quick: 100 clients, once, shorter windows.
 */
import { productionRun } from '../lib/production-scenario.js'
import { attempt, failed, count } from '../lib/line.js'
import { summary, ratio } from '../lib/stats.js'
import { perThousandText } from '../lib/cpu.js'
import { progress } from '../lib/log.js'

/** @typedef {import('../lib/production-scenario.js').ProductionResult} Run */
/** @typedef {import('../lib/production-servers.js').System} System */
/** @typedef {import('../lib/line.js').Line} Line */

const SYSTEMS = /** @type {const} */ (['plain', 'socketio', 'lifeline'])
/** Full runs stop starting repetitions once the next one would end past this. */
const BUDGET_MS = 330_000

/** @param {{ quick: boolean }} options */
export async function run({ quick }) {
  const sizes = quick ? [100] : [200, 500]
  const reps = quick ? 1 : 3
  const windows = quick
    ? { warmMs: 1_500, afterKillMs: 2_500, afterTermMs: 2_500, settleMs: 1_500 }
    : { warmMs: 3_000, afterKillMs: 4_000, afterTermMs: 4_000, settleMs: 2_000 }
  const t0 = Date.now()
  /** @type {Record<string, (Run | { error: string })[]>} by `${system} ${clients}` */
  const runs = {}
  let done = 0
  for (let rep = 0; rep < reps; rep++) {
    const elapsed = Date.now() - t0
    if (rep > 0 && elapsed + elapsed / rep > BUDGET_MS) break
    for (const clients of sizes)
      for (const system of SYSTEMS) {
        progress('production', `${system}, ${clients} clients, repetition ${rep + 1}`)
        const r = await attempt(() => productionRun({ system, clients, ...windows }))
        ;(runs[`${system} ${clients}`] ??= []).push(r.error === undefined ? r : { error: r.error })
      }
    done = rep + 1
  }
  const lines = sizes.flatMap((clients) => linesFor(clients, (system) => pool(runs[`${system} ${clients}`] ?? [])))
  return { lines, details: { windows, repetitions: done, seconds: Math.round((Date.now() - t0) / 1000), runs: brief(runs) } }
}

/**
 * @typedef {object} Pooled  a system's runs at one size, added up
 * @property {number[]} kill  SIGKILL reconnect times of the affected clients, ms
 * @property {number[]} term
 * @property {number | null} killRecovered
 * @property {number | null} termRecovered
 * @property {number} affected
 * @property {number} lost
 * @property {number} expected
 * @property {number} duplicated
 * @property {{ sent: number, acked: number, failed: number }} upstream
 * @property {import('../lib/cpu.js').CpuResult} cpu  seconds and wall time summed, percent over the sum
 * @property {number} falseMarkDowns
 * @property {number} runs
 * @property {string[]} errors
 */

/**
 * @param {(Run | { error: string })[]} results
 * @returns {Pooled | { error: string }}
 */
function pool(results) {
  const ok = /** @type {Run[]} */ (results.filter((r) => !('error' in r)))
  const errors = results.flatMap((r) => ('error' in r ? [r.error] : []))
  if (ok.length === 0) return { error: errors[0] ?? 'not run' }
  /** @param {(r: Run) => number} f */
  const sum = (f) => ok.reduce((a, r) => a + f(r), 0)
  /** @param {(number | null)[]} xs */
  const sumOrNull = (xs) => (xs.some((x) => x === null) ? null : xs.reduce((a, x) => (a ?? 0) + (x ?? 0), 0))
  const wall = sum((r) => r.cpu.wallSeconds)
  const servers = sum((r) => r.cpu.seconds.servers ?? 0)
  const clients = sum((r) => r.cpu.seconds.clients ?? 0)
  return {
    kill: ok.flatMap((r) => r.kill.times),
    term: ok.flatMap((r) => r.term.times),
    killRecovered: sumOrNull(ok.map((r) => r.kill.recovered)),
    termRecovered: sumOrNull(ok.map((r) => r.term.recovered)),
    affected: sum((r) => r.affected),
    lost: sum((r) => r.counts.lost),
    expected: sum((r) => r.counts.expected),
    duplicated: sum((r) => r.counts.duplicated),
    upstream: { sent: sum((r) => r.upstream.sent), acked: sum((r) => r.upstream.acked), failed: sum((r) => r.upstream.failed) },
    cpu: {
      seconds: { servers, clients },
      wallSeconds: wall,
      percent: wall > 0 ? Math.round(((servers + clients) / wall) * 100) : 0,
      machinePercent: wall > 0 ? Math.round(sum((r) => r.cpu.machinePercent * r.cpu.wallSeconds) / wall) : 0,
      cores: ok[0]?.cpu.cores ?? 0,
    },
    falseMarkDowns: sum((r) => r.falseMarkDowns.length),
    runs: ok.length,
    errors,
  }
}

/**
 * The lines of one size: reconnect after SIGKILL and after SIGTERM, loss and false mark-downs, CPU, upstream.
 * @param {number} clients
 * @param {(system: System) => Pooled | { error: string }} get
 * @returns {Line[]}
 */
function linesFor(clients, get) {
  const life = get('lifeline')
  const ws = get('plain')
  const sio = get('socketio')
  const big = clients >= 500
  /**
   * @param {(p: Pooled) => string} show
   * @returns {Pick<Line, 'lifeline' | 'baseline' | 'socketio'>}
   */
  const cells = (show) => ({
    lifeline: 'error' in life ? failed(life) : show(life),
    baseline: 'error' in ws ? failed(ws) : show(ws),
    socketio: 'error' in sio ? failed(sio) : show(sio),
  })
  /** @param {Pooled | { error: string }} p @param {'kill' | 'term'} which */
  const p95 = (p, which) => ('error' in p ? null : summary(p[which]).p95)
  /** @param {'kill' | 'term'} which */
  const reconnect = (which) => (/** @type {Pooled} */ p) => {
    const s = summary(p[which])
    const never = p[which].filter((t) => !Number.isFinite(t)).length
    const recovered = which === 'kill' ? p.killRecovered : p.termRecovered
    if (s.n === 0) return 'no affected client'
    return (
      `${which === 'kill' ? `${ms(s.p50)} / ` : ''}${ms(s.p95)} (n=${s.n}${never ? `, ${never} never` : ''})` +
      (recovered === null ? '' : `, ${recovered} recovered`)
    )
  }
  /** @param {'kill' | 'term'} which */
  const holds = (which) => {
    if ('error' in life) return null
    const l = p95(life, which)
    if (l === null || life[which].some((t) => !Number.isFinite(t))) return false
    if (big) return l <= 1500
    const b = p95(ws, which)
    return b === null ? null : l <= 1.2 * b
  }
  const target = big ? 'p95 ≤ 1500 ms' : 'p95 ≤ 1.2× ws'
  const at = `${clients} clients via HAProxy`
  /** @param {Pooled} p */
  const loss = (p) =>
    `${(p.affected ? p.lost / p.affected : 0).toFixed(1)} (${count(p.lost)} of ${count(p.expected)}, ${p.affected} affected${p.duplicated ? `, ${p.duplicated} dup` : ''}); ${p.falseMarkDowns} false`
  /** @param {Pooled} p */
  const cpu = (p) => `${p.cpu.percent}% (machine ${p.cpu.machinePercent}%); ${perThousandText(p.cpu, p.expected - p.lost)}`
  /** @param {Pooled} p */
  const upstream = (p) => `${count(p.upstream.acked)} / ${count(p.upstream.sent - p.upstream.acked)} of ${count(p.upstream.sent)}`
  return [
    {
      row: 'production',
      measure: `${at}: reconnect after SIGKILL, ms p50 / p95, recovered`,
      ...cells(reconnect('kill')),
      ratio: ratio(p95(life, 'kill'), p95(ws, 'kill')),
      target,
      holds: holds('kill'),
    },
    {
      row: 'production',
      measure: `${at}: reconnect after SIGTERM, ms p95, recovered`,
      ...cells(reconnect('term')),
      ratio: ratio(p95(life, 'term'), p95(ws, 'term')),
      target,
      holds: holds('term'),
    },
    {
      row: 'production',
      measure: `${at}: server→client lost per affected client; HAProxy false mark-downs`,
      ...cells(loss),
      ratio: null,
      target: big ? '0 false mark-downs' : '0 lost',
      holds: 'error' in life ? null : big ? life.falseMarkDowns === 0 : life.lost === 0,
    },
    {
      row: 'production',
      measure: `${at}: CPU % of 200 (both cores) over the window, this row's processes (whole machine); CPU s per 1,000 delivered, servers / clients`,
      ...cells(cpu),
      ratio: null,
      target: 'none (reported)',
      holds: null,
    },
    {
      row: 'production',
      measure: `${at}: upstream messages acknowledged / not, of sent`,
      ...cells(upstream),
      ratio: null,
      target: 'none (reported)',
      holds: null,
    },
  ]
}

/** @param {number | null} v */
const ms = (v) => (v !== null && Number.isFinite(v) ? String(v) : '∞')

/**
 * The runs without their per-client time lists (summarised).
 * @param {Record<string, (Run | { error: string })[]>} runs
 */
function brief(runs) {
  return Object.fromEntries(
    Object.entries(runs).map(([k, rs]) => [
      k,
      rs.map((r) =>
        'error' in r
          ? r
          : { ...r, kill: { ...summary(r.kill.times), recovered: r.kill.recovered }, term: { ...summary(r.term.times), recovered: r.term.recovered } },
      ),
    ]),
  )
}
