/**
 * `npm run bench [-- --quick] [-- --only failover,drain]`: runs every row, each in its own process group, side
 * by side with its baseline; prints one table to stdout (progress to stderr) and writes
 * bench/results/latest.json and latest.md. It reports and never fails: the exit code is 0 even when a target
 * is missed or a row breaks (that row says why in the table).
 */
import { fork } from 'node:child_process'
import os from 'node:os'
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { machine } from './lib/machine.js'
import { textTable, markdownTable } from './lib/table.js'
import { progress } from './lib/log.js'

const ROWS = ['bundle', 'catchup', 'throughput', 'faults', 'memory', 'failover', 'drain', 'frozen', 'production', 'curve']
const argv = process.argv.slice(2)
const quick = argv.includes('--quick')
const onlyArg = argv.find((a) => a.startsWith('--only'))
const only = onlyArg ? ((onlyArg.includes('=') ? onlyArg.split('=')[1] : argv[argv.indexOf(onlyArg) + 1]) ?? '').split(',') : ROWS
/**
 * Per-row time limit: far above a healthy row's time, so it only cuts a wedged one. The production row runs
 * 18 scenarios in a full run (its own budget stops repetitions at 330 s), the curve row goes up to 5,000 clients.
 * @param {string} name
 */
const rowLimitMs = (name) => (quick ? 90_000 : ({ production: 480_000, curve: 900_000 })[name] ?? 300_000)

const started = Date.now()
const info = machine()
/** @type {import('./lib/line.js').Line[]} */
const lines = []
/** @type {Record<string, object>} */
const details = {}
/** @type {number[]} 1-minute load averages at each row's start and end: figures taken with other work on the machine are skewed. */
const loads = []
for (const name of ROWS.filter((r) => only.includes(r))) {
  const t0 = Date.now()
  const loadBefore = os.loadavg()[0] ?? 0
  progress(name, `start (load average ${loadBefore.toFixed(1)})`)
  const out = await runRow(name)
  const seconds = Math.round((Date.now() - t0) / 100) / 10
  const load = [loadBefore, os.loadavg()[0] ?? 0].map((l) => Math.round(l * 10) / 10)
  loads.push(...load)
  progress(name, `done in ${seconds} s (load average ${load[1]})`)
  if (out.result) {
    lines.push(...out.result.lines)
    details[name] = { seconds, load, ...out.result.details }
  } else {
    const why = (out.error ?? 'no result').split('\n')[0]?.slice(0, 200)
    lines.push({ row: name, measure: '—', lifeline: `row failed: ${why}`, baseline: '—', ratio: null, target: '—', holds: null })
    details[name] = { seconds, load, error: out.error }
  }
}
const totalSeconds = Math.round((Date.now() - started) / 1000)
const mode = quick ? 'quick' : 'full'
const maxLoad = Math.max(0, ...loads)
// The bench itself keeps about two processes busy (a server and a fleet, or the cluster), so only a load
// beyond twice the cores says that other work shared the machine.
const loadNote =
  maxLoad > 2 * info.nproc
    ? [{ row: 'all', note: `load average reached ${maxLoad} on ${info.nproc} cores during this run: other work shared the machine, figures are skewed` }]
    : []
const notes = [...lines, ...loadNote].filter((l) => l.note).map((l) => `note (${l.row}): ${l.note}\n`).join('')
const table = textTable(lines)
process.stdout.write(`${table}\n${notes}\n${mode} run, ${totalSeconds} s; ${info.nproc} × ${info.cpu}, ${info.memoryGiB} GiB, node ${info.node}\n`)

const dir = fileURLToPath(new URL('./results/', import.meta.url))
mkdirSync(dir, { recursive: true })
const when = new Date().toISOString()
writeFileSync(`${dir}latest.json`, JSON.stringify({ when, mode, totalSeconds, maxLoad, machine: info, lines, details }, null, 2) + '\n')
writeFileSync(
  `${dir}latest.md`,
  `${markdownTable(lines)}\n\n${notes ? `${notes.replace(/^note /gm, '- note ')}\n` : ''}${mode} run of ${when}, ${totalSeconds} s. Machine: ${info.nproc} × ${info.cpu}, ` +
    `${info.memoryGiB} GiB, node ${info.node}, ${info.os}, ulimit -n ${info.nofile}, redis-server ${info.redis}.\n`,
)
process.exit(0)

/**
 * What a row host sends back: the row's lines and details, or why it failed.
 * @typedef {{ result?: { lines: import('./lib/line.js').Line[], details: object }, error?: string }} RowOutcome
 */

/**
 * Fork the row host in its own process group; kill the whole group when it is done or over its time.
 * @param {string} name
 * @returns {Promise<RowOutcome>}
 */
function runRow(name) {
  return new Promise((resolve) => {
    const child = fork(fileURLToPath(new URL('./lib/row-host.js', import.meta.url)), [name, ...(quick ? ['--quick'] : [])], {
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    /** @type {RowOutcome | null} */
    let out = null
    const limit = rowLimitMs(name)
    const timer = setTimeout(() => {
      out ??= { error: `over the row's time limit of ${limit / 1000} s` }
      killGroup(child.pid)
    }, limit)
    child.on('message', (msg) => (out ??= /** @type {RowOutcome} */ (msg)))
    child.on('exit', () => {
      clearTimeout(timer)
      killGroup(child.pid) // whatever the row left behind: servers, fleets, redis-server
      resolve(out ?? { error: 'row process exited without a result' })
    })
  })
}

/** @param {number | undefined} pid */
function killGroup(pid) {
  if (pid === undefined) return
  try {
    process.kill(-pid, 'SIGCONT') // frozen members cannot die until they run again
    process.kill(-pid, 'SIGKILL')
  } catch {}
}
