/**
 * A real `redis-server` for tests, on a free loopback port, with its own temporary directory.
 *
 * Why a real server and not a mock: the Redis store's guarantees live in Lua scripts, stream trimming, key
 * expiry and pub/sub, none of which a mock would check. CI installs it with `apt-get install -y redis-server`.
 *
 * `restart()` keeps the port and the directory, and the append-only file is on by default, so data written
 * before a restart is there after it (what a production Redis with persistence does).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server'
/** Generous for a 2-core CI machine loading an AOF; a healthy start takes ~20 ms. */
const START_TIMEOUT_MS = 10_000
/** A SIGTERM'd Redis fsyncs its AOF and exits at once; past this it is SIGKILLed. */
const STOP_TIMEOUT_MS = 5_000
/** Free-port races (another process grabbing the port between our probe and Redis's bind) retry this often. */
const PORT_ATTEMPTS = 5

export interface RedisServerOptions {
  /** Append-only file, fsynced on every write. Default true: a restart must not lose acknowledged writes. */
  appendonly?: boolean
}

export interface RedisServer {
  readonly port: number
  readonly url: string
  readonly dir: string
  /** The running process's pid, or undefined while stopped. */
  readonly pid: number | undefined
  /** Stop the server (SIGTERM: Redis flushes its AOF; SIGKILL: a crash) and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>
  /** Start it again on the same port and directory. */
  start(): Promise<void>
  /** Stop, then start. */
  restart(signal?: NodeJS.Signals): Promise<void>
  /** Stop and delete the directory. */
  close(): Promise<void>
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(
      `${REDIS_SERVER} not found: the Redis store tests need a real redis-server. ` +
        'Install it with `apt-get install -y redis-server` (CI does so in .ci/run), or set REDIS_SERVER.',
    )
  }
  const appendonly = options.appendonly ?? true
  const dir = await mkdtemp(join(tmpdir(), 'lifeline-redis-'))
  let child: ChildProcess | undefined
  let port = 0

  const launch = async (): Promise<void> => {
    const args = [
      '--bind', '127.0.0.1', '--port', String(port), '--save', '', '--dir', dir,
      '--pidfile', join(dir, 'redis.pid'), '--daemonize', 'no', '--logfile', '',
      '--appendonly', appendonly ? 'yes' : 'no', '--appendfsync', 'always',
    ]
    child = await spawnReady(args)
  }

  for (let attempt = 1; ; attempt++) {
    port = await freePort()
    try {
      await launch()
      break
    } catch (e) {
      if (!(e instanceof PortInUse) || attempt === PORT_ATTEMPTS) {
        await rm(dir, { recursive: true, force: true })
        throw e
      }
    }
  }

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const c = child
    child = undefined
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()))
    c.kill(signal)
    const timer = setTimeout(() => c.kill('SIGKILL'), STOP_TIMEOUT_MS)
    await exited
    clearTimeout(timer)
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get pid() {
      return child?.pid
    },
    stop,
    start: async () => {
      if (child) return
      await launch()
    },
    restart: async (signal) => {
      await stop(signal)
      await launch()
    },
    close: async () => {
      await stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

class PortInUse extends Error {}

/** Spawn redis-server and resolve once it logs that it accepts connections (an event, not a poll). */
function spawnReady(args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const c = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let log = ''
    const timer = setTimeout(() => {
      c.kill('SIGKILL')
      reject(new Error(`redis-server did not become ready within ${START_TIMEOUT_MS} ms:\n${log}`))
    }, START_TIMEOUT_MS)
    const onData = (chunk: Buffer): void => {
      log += chunk.toString()
      if (/Ready to accept connections/.test(log)) {
        clearTimeout(timer)
        c.stdout?.off('data', onData)
        // Keep draining the pipes so a chatty server never blocks on a full pipe.
        c.stdout?.resume()
        c.stderr?.resume()
        resolve(c)
      }
    }
    c.stdout?.on('data', onData)
    c.stderr?.on('data', onData)
    c.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    c.once('exit', (code, signal) => {
      clearTimeout(timer)
      const err = /Address already in use/i.test(log) ? new PortInUse(log) : new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${log}`)
      reject(err)
    })
  })
}

/** A port that was free a moment ago: bind port 0 on loopback, read it, close. Callers retry on a race. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}
