/**
 * The production row's three server processes on one Redis, for each system:
 *  - `lifeline`: standalone nodes, `node packages/devserver/dist/node/main.js --id nodeN --port 0 --store redis://…
 *    --secret S` (what docs/deployment.md runs behind HAProxy); ready once it prints `listening on ws://host:port`;
 *    started with an IPC channel only so that it exits if this process dies (main.ts exits on `disconnect`);
 *  - `socketio`: socketio-server.js (Socket.IO + Redis Streams adapter + connection state recovery);
 *  - `plain`: plain-server.js relaying room frames through Redis pub/sub.
 * Every one answers GET /healthz (200 serving, 503 draining) for HAProxy, and handles SIGTERM its own way.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { startChild, withTimeout } from './proc.js'

const NODE_MAIN = fileURLToPath(new URL('../../packages/devserver/dist/node/main.js', import.meta.url))

/** @typedef {'lifeline' | 'socketio' | 'plain'} System */

/**
 * @typedef {object} Server
 * @property {number | undefined} pid
 * @property {number} port
 * @property {(sig: NodeJS.Signals) => void} signal
 * @property {() => Promise<void>} stop  SIGKILL, and wait for the exit
 */

/**
 * @param {string} id
 * @param {string} store
 * @param {string} secret
 * @returns {Promise<Server>}
 */
async function startNode(id, store, secret) {
  const child = spawn(process.execPath, [NODE_MAIN, '--id', id, '--port', '0', '--store', store, '--secret', secret], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  let out = ''
  // Kept short: the node logs a line per event, and only the tail explains a failed start.
  const keep = (/** @type {Buffer} */ chunk) => void (out = (out + chunk).slice(-4_000))
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const port = await withTimeout(
    new Promise((resolve, reject) => {
      child.stdout?.on('data', () => {
        const m = /listening on ws:\/\/[^:\s]+:(\d+)/.exec(out)
        if (m) resolve(Number(m[1]))
      })
      child.once('exit', (code, signal) => reject(new Error(`node ${id} exited (${code ?? signal}) before listening: ${out.trim().split('\n').pop()}`)))
    }),
    20_000,
    `node ${id} did not listen`,
  ).catch((e) => {
    child.kill('SIGKILL')
    throw e
  })
  return {
    pid: child.pid,
    port: /** @type {number} */ (port),
    signal: (sig) => void (child.exitCode === null && child.signalCode === null && child.kill(sig)),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))])
    },
  }
}

/**
 * @param {'socketio-server.js' | 'plain-server.js'} script
 * @param {string} redisUrl
 * @returns {Promise<Server>}
 */
async function startScript(script, redisUrl) {
  const child = await startChild(script, { env: { BENCH_REDIS: redisUrl } })
  const { port } = /** @type {{ port: number }} */ (await child.call('info'))
  return { pid: child.pid, port, signal: child.signal, stop: child.stop }
}

/**
 * Start 3 servers of `system` on `redisUrl`; if one fails to start, the others are stopped.
 * @param {System} system
 * @param {string} redisUrl
 */
export async function startServers(system, redisUrl) {
  const secret = randomBytes(16).toString('hex')
  /** @type {Server[]} */
  const servers = []
  try {
    for (let k = 1; k <= 3; k++) {
      servers.push(
        system === 'lifeline'
          ? await startNode(`node${k}`, redisUrl, secret)
          : await startScript(system === 'socketio' ? 'socketio-server.js' : 'plain-server.js', redisUrl),
      )
    }
  } catch (e) {
    await Promise.allSettled(servers.map((s) => s.stop()))
    throw e
  }
  const scheme = system === 'socketio' ? 'http' : 'ws'
  return {
    servers,
    /** host:port of each, for HAProxy's server lines. */
    addresses: servers.map((s) => `127.0.0.1:${s.port}`),
    /** A client URL of each (the publisher connects to server 3 directly). */
    urls: servers.map((s) => `${scheme}://127.0.0.1:${s.port}`),
    pids: () => servers.map((s) => s.pid),
    async stop() {
      await Promise.allSettled(servers.map((s) => s.stop()))
    },
  }
}
