/**
 * The node as a process (dist/node/main.js, as the supervisor forks it): the ready line and IPC message,
 * the store served over IPC, SIGTERM → drain → exit 0, and exit at once when the supervisor goes away.
 * Needs `npm run build` first.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { afterEach, expect, it } from 'vitest'
import { CloseCode } from '@lifeline/protocol'
import { MemoryStore } from '../src/store/memory.js'
import { hostIpcStore } from '../src/store/ipc-host.js'
import { NODE_MAIN, requireBuilt } from './fixtures/built.js'
import { RawClient } from './fixtures/raw-client.js'
import { waitFor } from './support/wait.js'

const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})

type Started = { child: ChildProcess; port: number; line: string; exited: Promise<number | null> }

async function startNode(args: string[], env: NodeJS.ProcessEnv = {}, store?: MemoryStore): Promise<Started> {
  requireBuilt()
  const child = fork(NODE_MAIN, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env: { ...process.env, ...env } })
  children.push(child)
  if (store) hostIpcStore(store, child)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  let out = ''
  child.stdout!.on('data', (d) => (out += String(d)))
  const ready = await new Promise<{ id: string; port: number }>((resolve, reject) => {
    child.on('message', (m) => (m as { type?: string }).type === 'ready' && resolve(m as { id: string; port: number }))
    void exited.then((code) => reject(new Error(`node exited with ${code} before ready`)))
  })
  // The line is printed before the message is sent; stdout may still be in the pipe.
  await waitFor(() => out.includes('\n'), 'the ready line on stdout', 5_000, 5)
  return { child, port: ready.port, line: out.trim(), exited }
}

it('prints its line, says ready, serves the IPC store, and drains on SIGTERM (1012, exit 0)', async () => {
  const store = new MemoryStore()
  const { child, port, line, exited } = await startNode(['--id', 'p1', '--port', '0', '--store', 'ipc', '--secret', 's3'], {}, store)
  expect(line).toBe(`lifeline node p1 listening on ws://127.0.0.1:${port}`)
  const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()
  expect(health).toEqual({ status: 'ok', id: 'p1', connections: 0 })

  const c = await RawClient.connect(`ws://127.0.0.1:${port}`)
  await c.hello({ '@inbox': null, room: null })
  c.send({ t: 'send', seq: 1, data: 'echo' })
  c.send({ t: 'pub', seq: 2, topic: 'room', data: 'hi' })
  await c.next((f) => f.t === 'ack' && f.seq === 2)
  await c.until(() => c.msgs('@inbox').length === 1 && c.msgs('room').length === 1)
  // The write went to the supervisor's store, over IPC.
  expect((await store.read('room', 1, 10)).map((m) => m.data)).toEqual(['hi'])

  const started = Date.now()
  child.kill('SIGTERM')
  expect((await c.closed).code).toBe(CloseCode.SERVICE_RESTART)
  expect(await exited).toBe(0)
  console.log(`node process: SIGTERM → 1012 → exit 0 in ${Date.now() - started} ms`)
})

it('gets each live message once per node (not per client), and only for topics it reads', async () => {
  const store = new MemoryStore()
  requireBuilt()
  const child = fork(NODE_MAIN, ['--id', 'f1', '--port', '0', '--store', 'ipc', '--secret', 's'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  children.push(child)
  // Count what the host pushes to this node.
  const live: string[] = []
  const send = child.send.bind(child) as (m: unknown, cb?: (e: Error | null) => void) => boolean
  ;(child as { send: unknown }).send = (m: { kind?: string; message?: { topic: string } }, cb?: (e: Error | null) => void) => {
    if (m?.kind === 'live') live.push(m.message!.topic)
    return send(m, cb)
  }
  hostIpcStore(store, child)
  const port = await new Promise<number>((resolve) => child.on('message', (m) => (m as { type?: string }).type === 'ready' && resolve((m as { port: number }).port)))
  const readers = await Promise.all([1, 2, 3].map(() => RawClient.connect(`ws://127.0.0.1:${port}`)))
  for (const r of readers) {
    await r.hello({ a: null })
    await r.next((f) => f.t === 'subscribed')
  }
  for (let i = 1; i <= 10; i++) {
    await store.append('a', i)
    await store.append('b', i)
  }
  await Promise.all(readers.map((r) => r.until(() => r.msgs('a').length === 10)))
  for (const r of readers) r.close()
  console.log(`ipc fan-out: 3 clients on one node, 10 msgs on a read topic + 10 on an unread one → ${live.length} live IPC messages`)
  expect(live).toEqual(Array(10).fill('a'))
})

it('exits at once when its supervisor goes away (IPC channel closed)', async () => {
  const { child, exited } = await startNode(['--id', 'p2', '--port', '0', '--store', 'ipc', '--secret', 's'], {}, new MemoryStore())
  const started = Date.now()
  child.disconnect()
  await exited
  expect(Date.now() - started).toBeLessThan(2_000)
})

it('runs standalone on a memory store with LIFELINE_SECRET, and refuses bad flags with exit 2', async () => {
  const { port, child, exited } = await startNode(['--port', '0', '--store', 'memory', '--id', 'solo'], { LIFELINE_SECRET: 'env-secret' })
  const c = await RawClient.connect(`ws://127.0.0.1:${port}`)
  const w = await c.hello({})
  expect(w.node).toBe('solo')
  const { signSession } = await import('../src/security/token.js')
  expect(w.session.token).toMatch(new RegExp(`^${w.session.id}\\.\\d+\\.`))
  const { verifyToken } = await import('../src/security/token.js')
  expect(verifyToken('env-secret', w.session.token)?.session).toBe(w.session.id)
  c.close()
  child.kill('SIGTERM')
  expect(await exited).toBe(0)

  requireBuilt()
  const bad = fork(NODE_MAIN, ['--port', 'nope'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  children.push(bad)
  let err = ''
  bad.stderr!.on('data', (d) => (err += String(d)))
  expect(await new Promise((r) => bad.once('exit', r))).toBe(2)
  expect(err).toMatch(/--port: expected an integer/)
})
