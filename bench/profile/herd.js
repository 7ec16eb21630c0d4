/**
 * `node bench/profile/herd.js [kill|drain] [--clients N] [--herd-ms MS] [--routing handoff|proxy] [--out DIR]`: the failover (kill) or
 * drain row's Lifeline scenario (bench/lib/fault-scenario.js, full size: 1,000 clients) with every process
 * CPU-profiled and its event-loop delay recorded (preload.mjs). `--herd-ms` after the fault (default 2,000: the
 * herd of resumes), every process writes its profile; then summarize.js prints where each process spent that
 * window. Profiles land in DIR (default /tmp/lifeline-profile-<fault>) for Chrome DevTools or speedscope.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { faultSizes } from '../lib/fault-sizes.js'

const argv = process.argv.slice(2)
const flag = (/** @type {string} */ name, /** @type {string} */ fallback) => {
  const i = argv.indexOf(name)
  return i >= 0 ? (argv[i + 1] ?? fallback) : fallback
}
const fault = /** @type {'kill' | 'drain'} */ (argv[0] === 'drain' ? 'drain' : 'kill')
const herdMs = Number(flag('--herd-ms', '2000'))
const out = flag('--out', `/tmp/lifeline-profile-${fault}`)
const preload = fileURLToPath(new URL('./preload.mjs', import.meta.url))

if (!process.env.LIFELINE_PROFILE_DIR) {
  // Re-run under the preload, so this process (the supervisor: balancer + memory store) is profiled too.
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  const child = spawn(process.execPath, process.argv.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, LIFELINE_PROFILE_DIR: out, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${preload}` },
  })
  child.on('exit', (code) => process.exit(code ?? 1))
} else {
  const { lifelineScenario } = await import('../lib/fault-scenario.js')
  const { summarize } = await import('./summarize.js')
  const sizes = faultSizes(false)
  const clients = Number(flag('--clients', String(sizes.clients)))
  /** @type {[number, number]} */
  const window = [0, 0]
  const result = await lifelineScenario({
    ...sizes,
    clients,
    rooms: Math.max(2, Math.round(clients / 50)),
    fault,
    row: `profile ${fault}`,
    cluster: { routing: flag('--routing', 'handoff') === 'proxy' ? 'proxy' : 'handoff' },
    onFault: (markT) => {
      window[0] = markT
      window[1] = markT + herdMs
      setTimeout(() => signalTree(process.pid, 'SIGUSR2'), herdMs + 100)
    },
  })
  const resumed = result.times.filter(Number.isFinite).sort((a, b) => a - b)
  const p = (/** @type {number} */ q) => resumed[Math.min(resumed.length - 1, Math.ceil(q * resumed.length) - 1)]
  process.stdout.write(
    `${fault} with ${clients} clients: ${result.resumed}/${result.affected} resumed, p50 ${p(0.5)} / p99 ${p(0.99)} ms, ` +
      `lost ${result.counts.lost}, duplicated ${result.counts.duplicated}\n` +
      `detect p50/p99 ${result.detect.p50}/${result.detect.p99}; ` +
      Object.entries(result.phases).map(([k, s]) => `${k} p50/p99 ${s.p50}/${s.p99}`).join('; ') +
      ' ms\n\n',
  )
  process.stdout.write(`== steady load, the ${herdMs} ms before the fault ==\n${summarize(out, [window[0] - herdMs, window[0]])}\n`)
  process.stdout.write(`== the herd, the ${herdMs} ms after the fault ==\n${summarize(out, window)}`)
  process.exit(0)
}

/**
 * Send `signal` to `root` and every node process below it (each has the preload's handler).
 * @param {number} root
 * @param {NodeJS.Signals} signal
 */
function signalTree(root, signal) {
  /** @type {Map<number, number[]>} */
  const children = new Map()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)])
    } catch {}
  }
  const todo = [root]
  while (todo.length) {
    const pid = /** @type {number} */ (todo.pop())
    todo.push(...(children.get(pid) ?? []))
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]?.endsWith('node')) process.kill(pid, signal)
    } catch {}
  }
}
