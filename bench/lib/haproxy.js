/**
 * HAProxy 2.6 for the production row: `/usr/sbin/haproxy -f examples/haproxy/haproxy.cfg -db`, the example
 * config unchanged, its addresses through the environment (LIFELINE_BIND, LIFELINE_NODE1..3), on a free loopback
 * port. Its stderr is read for health-check transitions ("Server nodes/node2 is DOWN, reason: …", logged at
 * warning level), each with the time it was read, so the row can tell a mark-down it caused (a server it
 * killed) from a false one (a live server too busy to answer its check within the check interval).
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { freePort } from './redis.js'
import { waitUntil } from './proc.js'

export const HAPROXY = process.env.HAPROXY ?? '/usr/sbin/haproxy'
const CONFIG = fileURLToPath(new URL('../../examples/haproxy/haproxy.cfg', import.meta.url))

/** @typedef {{ at: number, server: number, state: 'DOWN' | 'UP' }} Transition  server: 1..3 (node1..node3) */

/** @param {number} port */
function accepts(port) {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => (s.destroy(), resolve(true)))
    s.once('error', () => resolve(false))
  })
}

/**
 * Start HAProxy in front of three `host:port` servers; resolves once its frontend accepts connections.
 * `nofile`: its open-file limit (HAProxy sizes maxconn from it; a WebSocket through it takes two).
 * @param {string[]} servers
 * @param {{ nofile?: number }} [options]
 */
export async function startHaproxy(servers, { nofile } = {}) {
  if (!existsSync(HAPROXY)) throw new Error(`${HAPROXY} not found (apt-get install -y haproxy, or set HAPROXY)`)
  if (servers.length !== 3) throw new Error('examples/haproxy/haproxy.cfg lists three servers')
  const port = await freePort()
  /** @type {Record<string, string>} */
  const env = { LIFELINE_BIND: `127.0.0.1:${port}` }
  servers.forEach((s, i) => (env[`LIFELINE_NODE${i + 1}`] = s))
  const args = ['-f', CONFIG, '-db']
  const [cmd, argv] = nofile ? ['sh', ['-c', `ulimit -n ${Number(nofile)} && exec "$0" "$@"`, HAPROXY, ...args]] : [HAPROXY, args]
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
  /** @type {Transition[]} */
  const transitions = []
  let tail = ''
  let partial = ''
  child.stderr.on('data', (/** @type {Buffer} */ chunk) => {
    const at = Date.now()
    tail = (tail + chunk).slice(-4_000)
    const lines = (partial + chunk).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      const m = /Server nodes\/node(\d) is (DOWN|UP)/.exec(line)
      if (m) transitions.push({ at, server: Number(m[1]), state: /** @type {'DOWN' | 'UP'} */ (m[2]) })
    }
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const up = await waitUntil(async () => child.exitCode !== null || (await accepts(port)), 10_000, 20)
  if (!up || child.exitCode !== null) {
    child.kill('SIGKILL')
    throw new Error(`haproxy did not listen on ${port}: ${tail.trim().split('\n').pop() ?? ''}`)
  }
  return {
    url: `ws://127.0.0.1:${port}`,
    pid: child.pid,
    transitions,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))])
    },
  }
}

/**
 * Mark-downs of a server that was not faulted at the time: `faults[server]` is when the row faulted it
 * (SIGKILL, SIGTERM); a DOWN of that server from then on is expected. A DOWN of a server already down (HAProxy
 * logs each transition once, but a repeated line is not a second event) is not counted again.
 * @param {readonly Transition[]} transitions
 * @param {Record<number, number>} faults
 */
export function falseMarkDowns(transitions, faults) {
  /** @type {Record<number, 'DOWN' | 'UP'>} */
  const state = {}
  /** @type {Transition[]} */
  const wrong = []
  for (const t of transitions) {
    if (state[t.server] === t.state) continue
    state[t.server] = t.state
    const faultedAt = faults[t.server]
    if (t.state === 'DOWN' && (faultedAt === undefined || t.at < faultedAt)) wrong.push(t)
  }
  return wrong
}
