/**
 * Real processes for the deployment tests, each on a free loopback port: `haproxy` running
 * examples/haproxy/haproxy.cfg unchanged (addresses through its environment variables), `nginx` running
 * examples/nginx/nginx.conf with its addresses substituted (nginx has no environment variables in configs),
 * and standalone node processes (`dist/node/main.js --store redis://…`).
 * CI installs them with `apt-get install -y haproxy nginx-light`.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NODE_MAIN, requireBuilt } from '../fixtures/built.js'
import { freePort } from './redis-server.js'
import { waitFor } from './wait.js'

const HAPROXY = process.env.HAPROXY ?? '/usr/sbin/haproxy'
const NGINX = process.env.NGINX ?? '/usr/sbin/nginx'
export const HAPROXY_CFG = fileURLToPath(new URL('../../../../examples/haproxy/haproxy.cfg', import.meta.url))
export const NGINX_CONF = fileURLToPath(new URL('../../../../examples/nginx/nginx.conf', import.meta.url))
/**
 * HAProxy and nginx bind in milliseconds and a node starts in well under a second, but on a 2-core machine
 * running other test files at once (load average 15+ seen) a node process has taken over 10 s.
 */
const START_TIMEOUT_MS = 20_000

export interface Proc {
  readonly child: ChildProcess
  readonly pid: number
  /** Everything the process wrote, for a failure message. */
  output(): string
  /** Signal it and wait for the exit (SIGKILL after 5 s). */
  stop(signal?: NodeJS.Signals): Promise<void>
}

/** A balancer in front of the nodes: HAProxy or nginx. */
export interface Balancer extends Proc {
  readonly port: number
  readonly url: string
}
export type Haproxy = Balancer

/** Start HAProxy on a free port in front of `nodes` (host:port each, at most 3: the config has 3 servers). */
export async function startHaproxy(nodes: string[]): Promise<Haproxy> {
  if (!existsSync(HAPROXY)) {
    throw new Error(`${HAPROXY} not found: this test needs a real HAProxy. Install it with \`apt-get install -y haproxy\` (CI does so in .ci/run), or set HAPROXY.`)
  }
  if (nodes.length > 3) throw new Error('examples/haproxy/haproxy.cfg lists three servers')
  const port = await freePort()
  const env: NodeJS.ProcessEnv = { ...process.env, LIFELINE_BIND: `127.0.0.1:${port}` }
  // A server without a live node behind it is simply marked down by its health check.
  for (let i = 0; i < 3; i++) env[`LIFELINE_NODE${i + 1}`] = nodes[i] ?? `127.0.0.1:${await freePort()}`
  const proc = track(spawn(HAPROXY, ['-f', HAPROXY_CFG, '-db'], { env, stdio: ['ignore', 'pipe', 'pipe'] }))
  await listening(proc, 'haproxy', port)
  return Object.assign(proc, { port, url: `ws://127.0.0.1:${port}` })
}

/**
 * Start nginx on a free port in front of exactly 3 `nodes`: the example's `listen 8080` and its three
 * `server 127.0.0.1:808x` lines are rewritten; everything else runs as written.
 */
export async function startNginx(nodes: string[]): Promise<Balancer> {
  if (!existsSync(NGINX)) {
    throw new Error(`${NGINX} not found: this test needs a real nginx. Install it with \`apt-get install -y nginx-light\` (CI does so in .ci/run), or set NGINX.`)
  }
  if (nodes.length !== 3) throw new Error('examples/nginx/nginx.conf lists three servers')
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'lifeline-nginx-'))
  let conf = (await readFile(NGINX_CONF, 'utf8')).replace(/listen 8080;/, `listen 127.0.0.1:${port};`)
  nodes.forEach((address, i) => {
    conf = conf.replace(`server 127.0.0.1:${8081 + i} `, `server ${address} `)
  })
  if (!conf.includes(`listen 127.0.0.1:${port};`) || nodes.some((a) => !conf.includes(`server ${a} `))) {
    throw new Error(`${NGINX_CONF} no longer has the listen/server lines this test rewrites`)
  }
  const file = join(dir, 'nginx.conf')
  await writeFile(file, conf)
  const globals = `daemon off; master_process on; pid ${join(dir, 'nginx.pid')}; error_log stderr warn;`
  const proc = track(spawn(NGINX, ['-p', dir, '-c', file, '-e', 'stderr', '-g', globals], { stdio: ['ignore', 'pipe', 'pipe'] }))
  const stop = proc.stop
  proc.stop = async (signal) => {
    await stop(signal)
    await rm(dir, { recursive: true, force: true })
  }
  await listening(proc, 'nginx', port)
  return Object.assign(proc, { port, url: `ws://127.0.0.1:${port}` })
}

export interface StandaloneNode extends Proc {
  readonly id: string
  readonly port: number
  readonly address: string
}

/**
 * `node dist/node/main.js --id <id> --port 0 --store <store> --secret <secret>` (and `extra` flags and environment);
 * resolves once it listens.
 * With an IPC channel only so the node exits if this test process dies (main.ts exits on `disconnect`):
 * no orphan node outlives a killed test run. On a failed start the process is killed before rejecting.
 */
export async function startStandaloneNode(id: string, store: string, secret: string, extra: { args?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<StandaloneNode> {
  requireBuilt()
  const child = spawn(process.execPath, [NODE_MAIN, '--id', id, '--port', '0', '--store', store, '--secret', secret, ...(extra.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...extra.env },
  })
  const proc = track(child)
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${id} did not start:\n${proc.output()}`)), START_TIMEOUT_MS)
    const onData = (): void => {
      const m = /listening on ws:\/\/[^:\s]+:(\d+)/.exec(proc.output())
      if (!m) return
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      resolve(Number(m[1]))
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`node ${id} exited (${code ?? signal}) before listening:\n${proc.output()}`))
    })
  }).catch(async (e: unknown) => {
    await proc.stop('SIGKILL')
    throw e
  })
  child.unref() // the IPC channel must not keep the test process alive
  ;(child.channel as { unref?: () => void } | undefined)?.unref?.()
  return Object.assign(proc, { id, port, address: `127.0.0.1:${port}` })
}

function track(child: ChildProcess): Proc {
  let out = ''
  // Bounded: a chatty process must not grow the test's memory without limit.
  const keep = (chunk: Buffer): void => void (out = (out + chunk.toString()).slice(-64 * 1024))
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    child,
    pid: child.pid ?? -1,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/**
 * Resolves once `port` accepts a connection, polled every 20 ms (a port opening has no event to wait on). If the
 * process exits first or the time runs out, it is killed and the error carries what it wrote.
 */
async function listening(proc: Proc, name: string, port: number): Promise<void> {
  const exited = (): boolean => proc.child.exitCode !== null || proc.child.signalCode !== null
  try {
    await waitFor(async () => {
      if (exited()) throw new Error(`${name} exited (${proc.child.exitCode ?? proc.child.signalCode}) before listening on ${port}`)
      return canConnect(port)
    }, `${name} to listen on ${port}`, START_TIMEOUT_MS, 20)
  } catch (e) {
    await proc.stop('SIGKILL')
    throw new Error(`${(e as Error).message}:\n${proc.output()}`)
  }
}
