/**
 * Child processes for the bench: servers and client fleets each run in their own process so that the figure
 * of one (CPU, RSS) is not mixed with the other's. Parent and child talk over Node's IPC channel with a tiny
 * request/response protocol: `{id, cmd, args}` → `{id, ok, value | error}`. Every call has a timeout, so a
 * wedged child can never hang the bench.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const libDir = fileURLToPath(new URL('.', import.meta.url))

/**
 * The child's commands. Each declares its own arguments; they arrive as JSON over IPC, so nothing checks them
 * against the declaration: the parent and the child script are written together.
 * @typedef {Record<string, (args: never) => unknown>} Handlers
 */

/**
 * @typedef {object} Child
 * @property {number | undefined} pid
 * @property {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} exited
 * @property {(cmd: string, args?: object, timeoutMs?: number) => Promise<unknown>} call  Call `cmd` in the child; rejects after `timeoutMs`. Cast the result to what the child's handler returns.
 * @property {(sig: NodeJS.Signals) => void} signal
 * @property {() => Promise<void>} stop  Kill the child (SIGKILL) and wait for it to be gone.
 */

/** @param {unknown} message */
function send(message) {
  if (!process.send) throw new Error('bench: this script runs as a child of the bench (startChild), with an IPC channel')
  process.send(message)
}

/**
 * Answer the parent's calls with `handlers[cmd](args)`; tell the parent we are ready. Used by child scripts.
 * @param {Handlers} handlers
 */
export function serve(handlers) {
  process.on('message', async (raw) => {
    const msg = /** @type {{ id?: unknown, cmd?: string, args?: unknown } | null} */ (raw)
    if (!msg || typeof msg.id !== 'number') return
    try {
      const handler = handlers[msg.cmd ?? '']
      if (!handler) throw new Error(`unknown command ${msg.cmd}`)
      const value = await handler(/** @type {never} */ (msg.args ?? {}))
      send({ id: msg.id, ok: true, value })
    } catch (e) {
      send({ id: msg.id, ok: false, error: String(/** @type {Error | null} */ (e)?.stack ?? e) })
    }
  })
  // If the parent dies, so do we: no orphans left holding ports.
  process.on('disconnect', () => process.exit(0))
  send({ ready: true })
}

/**
 * Start `bench/lib/<script>` (or an absolute path) as a child with IPC. `nofile`: raise the open-file limit
 * for that child first (through `sh -c 'ulimit -n N; exec node …'`, since Node has no setrlimit).
 * Resolves once the child said it is ready.
 */
/**
 * @param {string} script
 * @param {{ nofile?: number, execArgv?: string[], env?: Record<string, string>, readyTimeoutMs?: number }} [options]
 * @returns {Promise<Child>}
 */
export async function startChild(script, { nofile, execArgv = [], env = {}, readyTimeoutMs = 15_000 } = {}) {
  const path = script.startsWith('/') ? script : libDir + script
  const nodeArgs = [...execArgv, path]
  /** @type {import('node:child_process').SpawnOptions} */
  const opts = { stdio: ['ignore', 'inherit', 'pipe', 'ipc'], env: { ...process.env, ...env } }
  const child = nofile
    ? spawn('sh', ['-c', `ulimit -n ${Number(nofile)} && exec "$0" "$@"`, process.execPath, ...nodeArgs], opts)
    : spawn(process.execPath, nodeArgs, opts)
  // Pass the child's stderr through, keeping its tail: a child that dies at start says why in the table.
  let tail = ''
  child.stderr?.on('data', (/** @type {Buffer} */ chunk) => {
    process.stderr.write(chunk)
    tail = (tail + chunk).slice(-4_000)
  })
  const why = () => /^\w*Error.*$/m.exec(tail)?.[0] ?? tail.trim().split('\n').pop() ?? ''
  let nextId = 1
  /** @type {Map<number, { resolve: (value: unknown) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }>} */
  const pending = new Map()
  let readyResolve = () => {}
  /** @type {Promise<void>} */
  const ready = new Promise((resolve) => (readyResolve = resolve))
  /** @type {Child['exited']} */
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })))
  child.on('message', (raw) => {
    const msg = /** @type {{ ready?: true, id: number, ok: boolean, value?: unknown, error?: string }} */ (raw)
    if (msg?.ready) return readyResolve()
    const p = pending.get(msg?.id)
    if (!p) return
    pending.delete(msg.id)
    clearTimeout(p.timer)
    msg.ok ? p.resolve(msg.value) : p.reject(new Error(`${script}: ${msg.error}`))
  })
  exited.then(({ code, signal }) => {
    for (const p of pending.values()) {
      clearTimeout(p.timer)
      p.reject(new Error(`${script} exited (code ${code}, signal ${signal}) ${why()}`))
    }
    pending.clear()
    readyResolve()
  })
  await withTimeout(ready, readyTimeoutMs, `${script} did not start`)
  if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${script} exited at start: ${why()}`)
  return {
    pid: child.pid,
    exited,
    call(cmd, args = {}, timeoutMs = 60_000) {
      const id = nextId++
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id)
          reject(new Error(`${script}: ${cmd} timed out after ${timeoutMs} ms`))
        }, timeoutMs)
        pending.set(id, { resolve, reject, timer })
        child.send({ id, cmd, args })
      })
    },
    signal(sig) {
      try {
        if (child.pid !== undefined) process.kill(child.pid, sig)
      } catch {}
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGCONT') // a frozen child cannot die until it runs again
          process.kill(child.pid, 'SIGKILL')
        } catch {}
      }
      await withTimeout(exited, 5_000, `${script} did not exit`).catch(() => {})
    },
  }
}

/**
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} what  named in the error
 * @returns {Promise<T>}
 */
export function withTimeout(promise, ms, what) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} (after ${ms} ms)`)), ms))),
  ])
}

/** @param {number} ms @returns {Promise<void>} */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Poll `check()` every `everyMs` until it is true or `timeoutMs` passed; resolves to whether it became true.
 * @param {() => boolean | Promise<boolean>} check
 * @param {number} timeoutMs
 */
export async function waitUntil(check, timeoutMs, everyMs = 25) {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (Date.now() >= end) return false
    await sleep(everyMs)
  }
}
