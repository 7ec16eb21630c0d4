/**
 * Redis restored from an older snapshot (the same happens when a lagging async replica is promoted): it has
 * lost acknowledged writes, and each topic's log restarts from an older head. Offsets would be reused for new
 * messages, so a live subscriber would drop them as duplicates and a resuming reader would be told
 * `recovered: true` and handed other messages than it asked for. Every such loss must reach the app as a `gap`,
 * and every message published after the rollback must arrive. Counted per message.
 */
import { copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createClient as createRedisClient } from 'redis'
import { createClient, memoryStorage, type WebSocketConstructor } from '@lifeline/sdk'
import WebSocket from 'ws'
import { createNode, type LifelineNode } from '../src/node/node.js'
import { createRedisStore, type RedisStore } from '../src/store/redis-store.js'
import { startRedisServer, type RedisServer } from './support/redis-server.js'
import { waitFor } from './support/wait.js'

const NodeWebSocket = WebSocket as unknown as WebSocketConstructor
let redis: RedisServer
let store: RedisStore
let node: LifelineNode

beforeAll(async () => {
  redis = await startRedisServer({ appendonly: false })
  store = await createRedisStore(redis.url)
  node = await createNode({ id: 'rb1', store, secret: 'rollback-test', port: 0 })
})
afterAll(async () => {
  await node?.close()
  await store?.close()
  await redis?.close()
})

type Reader = { got: number[]; gaps: { reason: string; from: number; to: number }[] }
function reader(client: ReturnType<typeof createClient>, topic: string): Reader {
  const r: Reader = { got: [], gaps: [] }
  client.on('message', (m) => m.topic === topic && r.got.push((m.data as { n: number }).n))
  client.on('gap', (g) => g.topic === topic && r.gaps.push({ reason: g.reason, from: g.from, to: g.to }))
  return r
}
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

it('a store rolled back to an older snapshot: a new epoch, so readers get a gap and every later message arrives', async () => {
  const topic = 'rollback'
  const options = { url: node.url, WebSocket: NodeWebSocket, backoff: { minMs: 20, maxMs: 200 } }
  const publisher = createClient(options)
  const live = createClient(options)
  const liveSeen = reader(live, topic)
  const laterStorage = memoryStorage()
  let later = createClient({ ...options, persist: laterStorage })
  await Promise.all([live.subscribe(topic), later.subscribe(topic)])
  const publish = async (from: number, to: number) => {
    for (const n of range(from, to)) await publisher.publish(topic, { n })
  }

  await publish(1, 40)
  await waitFor(() => liveSeen.got.length === 40, 'the live reader to have 1..40')
  await later.close() // goes away at 40, resumes after the rollback from its persisted position
  await publish(41, 50)
  // The snapshot: what the store will be restored to.
  const admin = createRedisClient({ url: redis.url })
  await admin.connect()
  await admin.sendCommand(['SAVE'])
  await admin.quit()
  await copyFile(join(redis.dir, 'dump.rdb'), join(redis.dir, 'older.rdb'))
  await publish(51, 100) // acknowledged, then lost by the rollback
  await waitFor(() => liveSeen.got.length === 100, 'the live reader to have 1..100')

  await redis.stop('SIGKILL')
  await copyFile(join(redis.dir, 'older.rdb'), join(redis.dir, 'dump.rdb'))
  await redis.start()
  await publish(101, 150)
  later = createClient({ ...options, persist: laterStorage })
  const laterSeen = reader(later, topic)
  await later.subscribe(topic)
  await waitFor(() => range(101, 150).every((n) => liveSeen.got.includes(n) && laterSeen.got.includes(n)), 'both readers to have 101..150', 15_000).catch(() => {})

  const report = (name: string, r: Reader) => {
    const missingAfter = range(101, 150).filter((n) => !r.got.includes(n))
    const duplicated = r.got.length - new Set(r.got).size
    console.log(`[redis-rollback] ${name}: received=${r.got.length} missingOfNew=${missingAfter.length} duplicated=${duplicated} gaps=${JSON.stringify(r.gaps)}`)
    return { missingAfter, duplicated }
  }
  const l = report('live', liveSeen)
  const r = report('resumed', laterSeen)
  // Nothing published after the rollback is dropped as a "duplicate" of a reused offset.
  expect(l.missingAfter).toEqual([])
  expect(r.missingAfter).toEqual([])
  // The loss of acknowledged 51..100 (and that offsets restarted) is reported, not silent.
  expect(liveSeen.gaps.length).toBeGreaterThan(0)
  expect(laterSeen.gaps.map((g) => g.reason)).toContain('epoch')
  expect(l.duplicated).toBe(0)
  await Promise.all([publisher.close(), live.close(), later.close()])
})
