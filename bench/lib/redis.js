/**
 * A throwaway redis-server for the Redis-store rows: loopback only, a free port, no persistence (`--save ''`,
 * no AOF), its own pidfile; stopped by its pid. Resolves to null when redis-server is not installed, so the
 * row can say "skipped" instead of failing.
 */
import { spawn, execFileSync } from 'node:child_process'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { rmSync } from 'node:fs'
import { waitUntil } from './proc.js'

export function redisInstalled() {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * A port that was free a moment ago (bound on 127.0.0.1:0, then released).
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address())
      srv.close(() => resolve(port))
    })
  })
}

/**
 * @param {number} port
 * @returns {Promise<boolean>}
 */
function answersPing(port) {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1')
    sock.once('error', () => resolve(false))
    sock.once('connect', () => sock.write('PING\r\n'))
    sock.once('data', (d) => {
      sock.destroy()
      resolve(d.toString().startsWith('+PONG'))
    })
  })
}

export async function startRedis() {
  if (!redisInstalled()) return null
  const port = await freePort()
  const pidfile = `${tmpdir()}/lifeline-bench-redis-${port}.pid`
  const child = spawn(
    'redis-server',
    ['--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--port', String(port), '--pidfile', pidfile],
    { stdio: 'ignore' },
  )
  const up = await waitUntil(() => answersPing(port), 10_000, 50)
  if (!up) {
    child.kill('SIGKILL')
    throw new Error(`redis-server did not answer PING on port ${port} within 10 s`)
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      child.kill('SIGKILL')
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)))
      rmSync(pidfile, { force: true }) // a SIGKILLed redis-server leaves it behind
    },
  }
}
