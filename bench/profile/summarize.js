/**
 * Reads the profiles preload.mjs wrote and says, per process, where its CPU went within a time window:
 * busy share, event-loop delay, time by category (SDK, protocol, node core, store, balancer, ws, IPC, GC, …)
 * and the top functions by self time. `node bench/profile/summarize.js DIR [fromEpochMs toEpochMs]`.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * @typedef {{ functionName: string, url: string, lineNumber: number }} CallFrame
 * @typedef {{ id: number, callFrame: CallFrame }} ProfileNode
 * @typedef {{ nodes: ProfileNode[], startTime: number, samples: number[], timeDeltas: number[] }} Profile
 * @typedef {{ role: string, pid: number, clock: { epochMs: number, monoUs: number }, delay: [number, number, number][] }} Meta
 */

/** @param {CallFrame} cf */
export function category(cf) {
  const { functionName: f, url } = cf
  if (f === '(idle)') return 'idle'
  if (f === '(garbage collector)') return 'GC'
  if (f === '(program)') return 'V8 (program)'
  if (!url) return f === 'parse' || f === 'stringify' ? 'JSON' : 'builtins'
  const rules = /** @type {[RegExp, string][]} */ ([
    [/\/packages\/sdk\//, 'sdk'],
    [/\/packages\/protocol\//, 'protocol'],
    [/\/dist\/node\/core\//, 'node core'],
    [/\/dist\/node\//, 'node adapter'],
    [/\/dist\/store\//, 'store'],
    [/\/dist\/balancer\//, 'balancer'],
    [/\/dist\/(cluster|admin|http)\//, 'supervisor'],
    [/\/dist\/testing\/|\/bench\//, 'bench harness'],
    [/node_modules\/ws\//, 'ws'],
    [/node_modules\/zod\//, 'zod'],
    [/node_modules\/partysocket\//, 'partysocket'],
    [/node_modules\/(@redis|redis)\//, 'redis client'],
    [/node:internal\/child_process|node:internal\/process\/per_thread|v8|serdes/, 'IPC (child_process)'],
    [/node:internal\/(net|stream_base_commons|streams|tls)|node:net|node:stream/, 'net/streams'],
    [/node:internal\/timers|node:timers/, 'timers'],
    [/node:_http|node:internal\/http/, 'http'],
  ])
  for (const [re, name] of rules) if (re.test(url)) return name
  return url.startsWith('node:') ? 'node internals' : 'other'
}

/**
 * @param {string} dir
 * @param {[number, number]} [window]  epoch ms; the whole profile when absent or [0, 0]
 */
export function summarize(dir, window = [0, 0]) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
  /** @typedef {{ busy: number, span: number, n: number, delay: number[], maxDelay: number, cats: Map<string, number>, fns: Map<string, number> }} RoleSummary */
  /** @type {Map<string, RoleSummary>} */
  const byRole = new Map()
  for (const file of files) {
    const profile = /** @type {Profile} */ (JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')))
    const meta = /** @type {Meta} */ (JSON.parse(readFileSync(`${dir}/${file.replace(/\.cpuprofile$/, '.json')}`, 'utf8')))
    const role = meta.role.startsWith('fleet') ? 'client fleets (all)' : meta.role
    /** @type {RoleSummary} */
    const r = byRole.get(role) ?? { busy: 0, span: 0, n: 0, delay: [], maxDelay: 0, cats: new Map(), fns: new Map() }
    byRole.set(role, r)
    r.n++
    const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
    const [from, to] = window[1] > 0 ? window : [-Infinity, Infinity]
    let t = profile.startTime
    let first = Infinity
    let last = -Infinity
    for (let i = 0; i < profile.samples.length; i++) {
      t += profile.timeDeltas[i] ?? 0
      const epoch = meta.clock.epochMs + (t - meta.clock.monoUs) / 1000
      if (epoch < from || epoch > to) continue
      first = Math.min(first, epoch)
      last = Math.max(last, epoch)
      const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000
      const cf = nodes.get(profile.samples[i] ?? -1)
      if (!cf) continue
      const cat = category(cf)
      if (cat === 'idle') continue
      r.busy += ms
      r.cats.set(cat, (r.cats.get(cat) ?? 0) + ms)
      const where = cf.url ? `${cf.url.replace(/^.*\/(packages|node_modules|bench)\//, '$1/').replace(/^file:\/\//, '')}:${cf.lineNumber + 1}` : ''
      const fn = `${cf.functionName || '(anonymous)'} ${where}`.trim()
      r.fns.set(fn, (r.fns.get(fn) ?? 0) + ms)
    }
    if (last > first) r.span += last - first
    for (const [at, p99, max] of meta.delay) {
      if (at < from || at > to + 100) continue
      r.delay.push(p99)
      r.maxDelay = Math.max(r.maxDelay, max)
    }
  }
  const lines = []
  const pct = (/** @type {number} */ a, /** @type {number} */ b) => `${b > 0 ? Math.round((100 * a) / b) : 0}%`
  const order = [...byRole.entries()].sort((a, b) => b[1].busy - a[1].busy)
  for (const [role, r] of order) {
    const delay = r.delay.sort((a, b) => a - b)
    const p99 = delay.length ? (delay[Math.floor(0.99 * (delay.length - 1))] ?? 0) : 0
    lines.push(
      `${role}${r.n > 1 ? ` (${r.n} processes)` : ''}: busy ${Math.round(r.busy)} ms of ${Math.round(r.span / r.n)} ms (${pct(r.busy, r.span)}), ` +
        `event-loop delay p99 ${p99.toFixed(0)} ms, max ${r.maxDelay.toFixed(0)} ms`,
    )
    const cats = [...r.cats.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)
    lines.push(`  by category: ${cats.map(([c, ms]) => `${c} ${pct(ms, r.busy)}`).join(', ')}`)
    for (const [fn, ms] of [...r.fns.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)) lines.push(`    ${pct(ms, r.busy).padStart(4)}  ${fn}`)
  }
  return `${lines.join('\n')}\n`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, from, to] = process.argv.slice(2)
  if (!dir) throw new Error('usage: node bench/profile/summarize.js DIR [fromEpochMs toEpochMs]')
  process.stdout.write(summarize(dir, [Number(from ?? 0), Number(to ?? 0)]))
}
