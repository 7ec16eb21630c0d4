/**
 * A duplicated browser tab: "Duplicate tab" copies sessionStorage, so two live clients restore one persisted
 * session (token, positions, outbox) and both try to resume it. One session must have one writer: exactly one
 * of them keeps it, the other is refused and gets `reset` with its unconfirmed sends, and every publish whose
 * promise resolved is applied exactly once. Counted against the topic log itself, not sampled.
 */
import { expect, it } from 'vitest'
import { createClient, memoryStorage, type StorageLike, type WebSocketConstructor } from '@lifeline/sdk'
import WebSocket from 'ws'
import { MemoryStore } from '../src/store/memory.js'
import { useNodes } from './support/nodes.js'
import { waitFor } from './support/wait.js'

const NodeWebSocket = WebSocket as unknown as WebSocketConstructor
const { start } = useNodes({ secret: 'dup-tab' })

/** A second storage holding a copy of everything in `from`, as a duplicated tab's sessionStorage does. */
function copyOf(from: StorageLike, keys: string[]): StorageLike {
  const to = memoryStorage()
  for (const k of keys) {
    const v = from.getItem(k)
    if (v !== null) to.setItem(k, v)
  }
  return to
}

it('two clients restored from one persisted session: one keeps it, the other is reset; every resolved publish applied once', async () => {
  const store = new MemoryStore()
  const n1 = await start({ store })
  const n2 = await start({ store })
  const topic = 'dup'
  const url = n1.url
  const persistKey = 'tab'
  const options = { WebSocket: NodeWebSocket, persistKey, backoff: { minMs: 10, maxMs: 40 } }
  const storageA = memoryStorage()
  const a = createClient({ ...options, url: [url, n2.url], persist: storageA })
  await a.subscribe(topic)
  await a.publish(topic, { id: 'a-0' })
  // The duplicate: a copy of A's storage at this instant, A still connected and publishing.
  const storageB = copyOf(storageA, [`${persistKey}:session`, `${persistKey}:outbox`])
  const b = createClient({ ...options, url: [n2.url, url], persist: storageB })
  const resets: { who: string; unconfirmed: number }[] = []
  a.on('reset', (e) => resets.push({ who: 'a', unconfirmed: e.unconfirmed.length }))
  b.on('reset', (e) => resets.push({ who: 'b', unconfirmed: e.unconfirmed.length }))

  const resolved = new Set<string>(['a-0'])
  const rejected: string[] = []
  const inFlight: Promise<unknown>[] = []
  const N = 150
  for (let i = 1; i <= N; i++) {
    for (const [name, c] of [['a', a], ['b', b]] as const) {
      const id = `${name}-${i}`
      inFlight.push(c.publish(topic, { id }).then(() => void resolved.add(id), (e: { code?: string }) => void rejected.push(`${id}:${e.code}`)))
    }
    await new Promise((r) => setTimeout(r, 5))
  }
  await Promise.race([Promise.allSettled(inFlight), new Promise((r) => setTimeout(r, 20_000))])
  await waitFor(() => a.pending === 0 && b.pending === 0, 'both outboxes empty', 20_000).catch(() => {})

  const log = await store.read(topic, 1, 100_000)
  const applied = new Map<string, number>()
  for (const m of log) {
    const id = (m.data as { id?: string }).id ?? '?'
    applied.set(id, (applied.get(id) ?? 0) + 1)
  }
  const resolvedNotApplied = [...resolved].filter((id) => !applied.has(id))
  const appliedTwice = [...applied].filter(([, n]) => n > 1).map(([id]) => id)
  console.log(
    `[duplicate-tab] issued=${2 * N + 1} resolved=${resolved.size} rejected=${rejected.length} applied=${log.length} ` +
      `resolvedButNotApplied=${resolvedNotApplied.length} appliedTwice=${appliedTwice.length} resets=${JSON.stringify(resets)} ` +
      `pending=a:${a.pending},b:${b.pending}`,
  )
  expect(resolvedNotApplied).toEqual([])
  expect(appliedTwice).toEqual([])
  expect(a.pending + b.pending).toBe(0)
  // Exactly one of the two lost the session, once; the other kept it.
  expect(resets).toHaveLength(1)
  expect(a.sessionId).not.toBe(b.sessionId)
  await a.close()
  await b.close()
})
