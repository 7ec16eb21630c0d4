/**
 * CPU accounting for a row: CPU seconds (utime + stime of /proc/<pid>/stat, in clock ticks of `getconf CLK_TCK`)
 * of groups of processes, each group given by its root pids and taking in their descendants. A process belongs
 * to the group of its nearest root (itself or an ancestor): with the row host as the "servers" root and the
 * fleets as "clients" roots, a fleet (a child of the row host) counts as a client and a cluster node as a server.
 *
 * A sampler polls every `everyMs` and keeps each process's first and last reading, so a process SIGKILLed
 * mid-window still counts up to its last sample (call `sample()` just before a kill to lose nothing). A group's
 * figure is the sum over its processes of (last − first); a process first seen after the first sample started
 * within the window and counts from 0. Children's times (cutime) are not read: each descendant is counted itself.
 * Also the whole machine's busy time (/proc/stat), to tell a saturated machine from a busy row.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import os from 'node:os'

/** Clock ticks per second of /proc's times: `getconf CLK_TCK`, 100 where it cannot be asked. */
const CLK_TCK = (() => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    return n > 0 ? n : 100
  } catch {
    return 100
  }
})()

/** @typedef {{ pid: number, ppid: number, ticks: number, start: number }} Stat */

/**
 * Every process's parent, CPU ticks and start time (field 22, so a reused pid is a new process).
 * @returns {Map<number, Stat>}
 */
function readAll() {
  /** @type {Map<number, Stat>} */
  const all = new Map()
  /** @type {string[]} */
  let names = []
  try {
    names = readdirSync('/proc')
  } catch {
    return all
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8')
      // The command name (2nd field) is in parentheses and may hold spaces: split after the last ')'.
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ')
      all.set(Number(name), { pid: Number(name), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), start: Number(f[19]) })
    } catch {} // gone between readdir and read
  }
  return all
}

/** Busy and total ticks of all CPUs together, from the first line of /proc/stat. */
function machineTicks() {
  try {
    const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number)
    const total = f.reduce((a, b) => a + b, 0)
    const idle = (f[3] ?? 0) + (f[4] ?? 0) // idle + iowait
    return { busy: total - idle, total }
  } catch {
    return { busy: 0, total: 0 }
  }
}

/**
 * @typedef {object} CpuResult
 * @property {Record<string, number>} seconds  CPU seconds per group over the window
 * @property {number} wallSeconds
 * @property {number} percent  all groups together, % of one core (200 = both cores of a 2-core machine busy)
 * @property {number} machinePercent  the whole machine (every process, this row's or not), same scale
 * @property {number} cores
 */

/**
 * Start sampling; `groups` maps a group name to a function giving its root pids now (asked at every sample, so
 * a process started later is taken in).
 * @param {Record<string, () => (number | undefined)[]>} groups
 * @param {{ everyMs?: number }} [options]
 */
export function startCpuSampler(groups, { everyMs = 400 } = {}) {
  /** @type {Map<string, { group: string, first: number, last: number }>} by pid:start */
  const seen = new Map()
  const t0 = Date.now()
  const m0 = machineTicks()
  let samples = 0
  const sample = () => {
    const all = readAll()
    /** @type {Map<number, string>} */
    const rootOf = new Map()
    for (const [group, roots] of Object.entries(groups)) for (const pid of roots()) if (pid !== undefined) rootOf.set(pid, group)
    for (const s of all.values()) {
      let group
      // Walk up to the nearest root; bounded, in case a ppid loop is read mid-change.
      for (let p = s.pid, hops = 0; p > 1 && hops < 64 && group === undefined; hops++) {
        group = rootOf.get(p)
        p = all.get(p)?.ppid ?? 0
      }
      if (group === undefined) continue
      const key = `${s.pid}:${s.start}`
      const had = seen.get(key)
      if (had) had.last = s.ticks
      else seen.set(key, { group, first: samples === 0 ? s.ticks : 0, last: s.ticks })
    }
    samples++
  }
  sample()
  const timer = setInterval(sample, everyMs)
  timer.unref()
  return {
    /** Take a reading now (before a SIGKILL, so the victim's last slice counts). */
    sample,
    /** @returns {CpuResult} */
    stop() {
      sample()
      clearInterval(timer)
      /** @type {Record<string, number>} */
      const seconds = {}
      for (const g of Object.keys(groups)) seconds[g] = 0
      for (const v of seen.values()) seconds[v.group] = (seconds[v.group] ?? 0) + (v.last - v.first) / CLK_TCK
      for (const g of Object.keys(seconds)) seconds[g] = Math.round((seconds[g] ?? 0) * 100) / 100
      const wallSeconds = (Date.now() - t0) / 1000
      const m1 = machineTicks()
      const cores = os.availableParallelism()
      const busy = Object.values(seconds).reduce((a, b) => a + b, 0)
      return {
        seconds,
        wallSeconds: Math.round(wallSeconds * 10) / 10,
        percent: wallSeconds > 0 ? Math.round((busy / wallSeconds) * 100) : 0,
        machinePercent: m1.total > m0.total ? Math.round(((m1.busy - m0.busy) / (m1.total - m0.total)) * 100 * cores) : 0,
        cores,
      }
    },
  }
}

/**
 * CPU seconds per 1,000 delivered messages, one decimal place more than useful at small counts.
 * @param {number | undefined} seconds
 * @param {number} delivered
 */
export function perThousand(seconds, delivered) {
  return seconds === undefined || delivered <= 0 ? null : Math.round((seconds / delivered) * 1000 * 1000) / 1000
}

/**
 * "0.123 / 0.456" (servers / clients, CPU s per 1,000 delivered), or "—".
 * @param {CpuResult | undefined} cpu
 * @param {number} delivered
 */
export function perThousandText(cpu, delivered) {
  if (!cpu) return '—'
  const s = perThousand(cpu.seconds.servers, delivered)
  const c = perThousand(cpu.seconds.clients, delivered)
  return s === null || c === null ? '—' : `${s.toFixed(3)} / ${c.toFixed(3)}`
}
