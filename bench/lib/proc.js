/**
 * Child processes for the bench: servers and client fleets each run in their own process so that the figure
 * of one (CPU, RSS) is not mixed with the other's. Parent and child talk over Node's IPC channel with a tiny
 * request/response protocol: `{id, cmd, args}` → `{id, ok, value | error}`. Every call has a timeout, so a
 * wedged child can never hang the bench.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const libDir = fileURLToPath(new URL('.', import.meta.url))

/** Answer the parent's calls with `handlers[cmd](args)`; tell the parent we are ready. Used by child scripts. */
export function serve(handlers) {
  process.on('message', async (msg) => {
    if (!msg || typeof msg.id !== 'number') return
    try {
      const handler = handlers[msg.cmd]
      if (!handler) throw new Error(`unknown command ${msg.cmd}`)
      const value = await handler(msg.args ?? {})
      process.send({ id: msg.id, ok: true, value })
    } catch (e) {
      process.send({ id: msg.id, ok: false, error: String(e?.stack ?? e) })
    }
  })
  // If the parent dies, so do we: no orphans left holding ports.
  process.on('disconnect', () => process.exit(0))
  process.send({ ready: true })
}

/**
 * Start `bench/lib/<script>` (or an absolute path) as a child with IPC. `nofile`: raise the open-file limit
 * for that child first (through `sh -c 'ulimit -n N; exec node …'`, since Node has no setrlimit).
 * Resolves once the child said it is ready.
 */
export async function startChild(script, { nofile, execArgv = [], env = {}, readyTimeoutMs = 15_000 } = {}) {
  const path = script.startsWith('/') ? script : libDir + script
  const nodeArgs = [...execArgv, path]
  const opts = { stdio: ['ignore', 'inherit', 'pipe', 'ipc'], env: { ...process.env, ...env } }
  const child = nofile
    ? spawn('sh', ['-c', `ulimit -n ${Number(nofile)} && exec "$0" "$@"`, process.execPath, ...nodeArgs], opts)
    : spawn(process.execPath, nodeArgs, opts)
  // Pass the child's stderr through, keeping its tail: a child that dies at start says why in the table.
  let tail = ''
  child.stderr.on('data', (chunk) => {
    process.stderr.write(chunk)
    tail = (tail + chunk).slice(-4_000)
  })
  const why = () => /^\w*Error.*$/m.exec(tail)?.[0] ?? tail.trim().split('\n').pop() ?? ''
  let nextId = 1
  const pending = new Map()
  let readyResolve
  const ready = new Promise((resolve) => (readyResolve = resolve))
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })))
  child.on('message', (msg) => {
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
    /** Call `cmd` in the child; rejects after `timeoutMs`. */
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
        process.kill(child.pid, sig)
      } catch {}
    },
    /** Kill the child (SIGKILL) and wait for it to be gone. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGCONT') // a frozen child cannot die until it runs again
          process.kill(child.pid, 'SIGKILL')
        } catch {}
      }
      await withTimeout(exited, 5_000, `${script} did not exit`).catch(() => {})
    },
  }
}

export function withTimeout(promise, ms, what) {
  let timer
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} (after ${ms} ms)`)), ms))),
  ])
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Poll `check()` every `everyMs` until it is true or `timeoutMs` passed; resolves to whether it became true. */
export async function waitUntil(check, timeoutMs, everyMs = 25) {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (Date.now() >= end) return false
    await sleep(everyMs)
  }
}
