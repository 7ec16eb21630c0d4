/**
 * Loaded into every process of a profiled bench run (`NODE_OPTIONS=--import …/preload.mjs`, set by herd.js):
 * starts a V8 CPU profile and an event-loop delay monitor at once, and on SIGUSR2 (or at exit, whichever
 * comes first) writes `<role>-<pid>.cpuprofile` and `<role>-<pid>.json` (the wall-clock/monotonic clock pair
 * that places the profile's samples in time, and the event-loop delay every 100 ms) into
 * LIFELINE_PROFILE_DIR. A process SIGKILLed before that writes nothing. Without LIFELINE_PROFILE_DIR it does
 * nothing at all.
 */
import { Session } from 'node:inspector'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { writeFileSync } from 'node:fs'
import { basename } from 'node:path'

const dir = process.env.LIFELINE_PROFILE_DIR
if (dir) start(dir)

/** @param {string} dir */
function start(dir) {
  const role = roleOf(process.argv)
  const session = new Session()
  session.connect()
  /** Same moment on both clocks: V8's profile times are CLOCK_MONOTONIC µs, like process.hrtime. */
  const clock = { epochMs: Date.now(), monoUs: Number(process.hrtime.bigint() / 1000n) }
  session.post('Profiler.enable')
  session.post('Profiler.setSamplingInterval', { interval: 500 })
  session.post('Profiler.start')
  const eld = monitorEventLoopDelay({ resolution: 10 })
  eld.enable()
  /** @type {[number, number, number][]} [epoch ms, p99 ms, max ms] of each 100 ms */
  const delay = []
  const tick = setInterval(() => {
    delay.push([Date.now(), eld.percentile(99) / 1e6, eld.max / 1e6])
    eld.reset()
  }, 100)
  tick.unref()
  let written = false
  const write = () => {
    if (written) return
    written = true
    clearInterval(tick)
    // The in-process inspector session answers synchronously, so this also works inside 'exit'.
    session.post('Profiler.stop', (err, result) => {
      if (err) return
      const file = `${dir}/${role}-${process.pid}`
      writeFileSync(`${file}.cpuprofile`, JSON.stringify(result.profile))
      writeFileSync(`${file}.json`, JSON.stringify({ role, pid: process.pid, clock, delay }))
    })
    session.disconnect()
  }
  process.on('SIGUSR2', write)
  process.on('exit', write)
}

/**
 * A short name for this process from its script and flags: node-<id>, fleet, supervisor (the profiling
 * script itself, which hosts the cluster), or the script's name.
 * @param {string[]} argv
 */
function roleOf(argv) {
  const script = basename(argv[1] ?? 'node')
  if (script === 'main.js') return `node-${argv[argv.indexOf('--id') + 1] ?? '?'}`
  if (script === 'client-fleet.js') return 'fleet'
  if (script === 'herd.js') return 'supervisor'
  return script.replace(/\.m?js$/, '')
}
