/**
 * The store contract on MemoryStore, and on IpcStore across a real forked process (the host holds a
 * MemoryStore). Plus what only IPC has: a frozen node must not block or bloat the host, and loses nothing.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { MemoryStore } from '../src/store/memory.js'
import { IpcStore } from '../src/store/ipc-client.js'
import { hostIpcStore } from '../src/store/ipc-host.js'
import { DEFAULT_RETENTION } from '../src/store/retention.js'
import { storeContract } from './store-contract.js'
import { requireBuilt } from './fixtures/built.js'

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const children = new Set<ChildProcess>()
afterAll(() => {
  for (const child of children) child.kill('SIGKILL')
})

function forkReady(name: string, args: string[]): Promise<ChildProcess> {
  requireBuilt()
  const child = fork(fixture(name), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  children.add(child)
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)))
    const onMessage = (m: unknown): void => {
      if ((m as { type?: string })?.type !== 'ready') return
      child.off('message', onMessage)
      resolve(child)
    }
    child.on('message', onMessage)
  })
}

storeContract('memory', async (o) => new MemoryStore({ retention: o.retention }), undefined, { volatile: true })

storeContract('ipc (forked host)', async (o) => {
  const child = await forkReady('ipc-store-host.mjs', [JSON.stringify(o.retention)])
  const store = new IpcStore({ channel: child })
  const close = store.close.bind(store)
  store.close = async () => {
    await close()
    child.kill()
    children.delete(child)
  }
  return store
}, undefined, { volatile: true })

describe('memory store', () => {
  it('uses the documented retention defaults', () => {
    expect(DEFAULT_RETENTION).toEqual({ maxMessages: 10_000, maxAgeMs: 120_000, maxBytes: 16 * 1024 * 1024, maxTotalBytes: 256 * 1024 * 1024 })
  })

  it('retains by age on an injected clock', async () => {
    let now = 1_000
    const store = new MemoryStore({ retention: { maxAgeMs: 100 }, now: () => now })
    await store.append('t', 1)
    now += 60
    await store.append('t', 2)
    now += 60
    expect(await store.head('t')).toMatchObject({ first: 2, last: 2 })
    now += 100
    expect(await store.read('t', 1, 10)).toEqual([])
    await store.close()
  })

  it('expires sessions on an injected clock', async () => {
    let now = 0
    const store = new MemoryStore({ now: () => now })
    await store.createSession('s', 1_000, { generation: 1, instance: undefined, attempt: 0 })
    now = 999
    expect(await store.touchSession('s', 1, 1_000)).toBe(true)
    now = 1_998
    const claim = { presented: 1, next: 2, instance: undefined, attempt: 0, lastSeq: 0 }
    expect(await store.claimSession('s', 1_000, claim)).toMatchObject({ status: 'claimed', record: { generation: 2 } })
    now = 3_000
    expect(await store.claimSession('s', 1_000, { ...claim, presented: 2, next: 3 })).toEqual({ status: 'unknown' })
    await store.close()
  })
})

describe('ipc host', () => {
  it('is not blocked by a frozen node, bounds what it queues for it, and the node loses nothing after thawing', async () => {
    const store = new MemoryStore()
    const topic = 'frozen'
    requireBuilt()
    const child = fork(fixture('ipc-store-node.mjs'), [topic], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    children.add(child)
    const detach = hostIpcStore(store, child)
    await new Promise<void>((resolve) => child.on('message', (m) => (m as { type?: string }).type === 'ready' && resolve()))

    child.kill('SIGSTOP')
    const N = 5_000
    const payload = 'x'.repeat(2_000)
    const started = performance.now()
    let maxTick = 0
    let last = performance.now()
    for (let i = 0; i < N; i++) {
      await store.append(topic, payload)
      if (i % 100 === 0) {
        // Yield to the event loop and measure how long it was held.
        await new Promise((r) => setImmediate(r))
        maxTick = Math.max(maxTick, performance.now() - last)
        last = performance.now()
      }
    }
    const elapsed = performance.now() - started
    child.kill('SIGCONT')

    const ask = setInterval(() => child.send({ type: 'report' }), 50)
    const report = await new Promise<number[]>((resolve) => {
      child.on('message', (m) => {
        const r = m as { type?: string; seen?: number[] }
        if (r.type === 'report' && r.seen?.at(-1) === N) resolve(r.seen)
      })
    }).finally(() => clearInterval(ask))
    const increasing = report.every((o, i) => i === 0 || o > report[i - 1]!)
    console.log(`ipc frozen node: ${N} appends in ${elapsed.toFixed(0)} ms (longest loop hold ${maxTick.toFixed(1)} ms); node saw ${report.length} live messages, newest ${report.at(-1)}, in order: ${increasing}`)
    expect(increasing).toBe(true)
    expect(report.at(-1)).toBe(N)
    // The host queued at most its bound for the frozen node, not all N (the rest is read from the store).
    expect(report.length).toBeLessThan(N)
    expect(elapsed).toBeLessThan(5_000)
    detach()
    child.kill()
    await store.close()
  })
})
