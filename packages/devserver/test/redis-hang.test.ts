/**
 * A hung Redis (SIGSTOP: the socket stays open, nothing answers). Store calls must not wait forever: within the
 * command timeout (2 s by default) they fail as STORE_UNAVAILABLE, the node tells the client so, and the
 * client's outbox keeps the message until Redis answers again; then it is applied exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createClient, type WebSocketConstructor } from '@lifeline/sdk'
import WebSocket from 'ws'
import { ErrorCode } from '@lifeline/protocol'
import { createNode, type LifelineNode } from '../src/node/node.js'
import { createRedisStore, type RedisStore } from '../src/store/redis-store.js'
import { startRedisServer, type RedisServer } from './support/redis-server.js'
import { waitFor } from './support/wait.js'

const NodeWebSocket = WebSocket as unknown as WebSocketConstructor
let redis: RedisServer
let store: RedisStore
let node: LifelineNode

beforeAll(async () => {
  redis = await startRedisServer()
  store = await createRedisStore(redis.url)
  node = await createNode({ id: 'hang1', store, secret: 'hang-test', port: 0 })
})
afterAll(async () => {
  if (redis?.pid) process.kill(redis.pid, 'SIGCONT')
  await node?.close()
  await store?.close()
  await redis?.close()
})

it('a hung Redis: calls fail STORE_UNAVAILABLE within the command timeout, and the outbox delivers once it answers', async () => {
  const topic = 'hang'
  const client = createClient({ url: node.url, WebSocket: NodeWebSocket, backoff: { minMs: 50, maxMs: 300 } })
  const errors: string[] = []
  client.on('error', (e) => errors.push(e.code))
  await client.subscribe(topic)
  await client.publish(topic, { n: 1 })

  process.kill(redis.pid!, 'SIGSTOP')
  const t0 = Date.now()
  const direct = await store.head(topic).then(() => 'answered', (e: { code?: string }) => e.code ?? String(e))
  const directMs = Date.now() - t0
  const pending = client.publish(topic, { n: 2 })
  let settled = false
  void pending.then(() => (settled = true), () => (settled = true))
  const told = Date.now()
  // Not fatal here: the assertions below say what was (not) told, and after how long.
  await waitFor(() => errors.includes(ErrorCode.STORE_UNAVAILABLE), 'the client to be told STORE_UNAVAILABLE', 5_000, 20).catch(() => {})
  const toldMs = Date.now() - told
  await new Promise((r) => setTimeout(r, 300))
  const settledWhileHung = settled
  process.kill(redis.pid!, 'SIGCONT')
  const outcome = await Promise.race([pending.then(() => 'resolved', (e: { code?: string }) => e.code), new Promise((r) => setTimeout(() => r('pending'), 15_000))])
  const log = await store.read(topic, 1, 100)
  const applied = log.filter((m) => (m.data as { n: number }).n === 2).length
  console.log(`[redis-hang] direct call: ${direct} after ${directMs} ms; client told ${errors.join(',') || 'nothing'} after ${toldMs} ms; publish ${outcome}; applied ${applied}×`)
  expect(direct).toBe(ErrorCode.STORE_UNAVAILABLE)
  expect(directMs).toBeLessThan(3_000)
  expect(errors).toContain(ErrorCode.STORE_UNAVAILABLE)
  expect(toldMs).toBeLessThan(3_000)
  expect(settledWhileHung).toBe(false) // not acknowledged, not dropped: waiting in the outbox
  expect(outcome).toBe('resolved')
  expect(applied).toBe(1)
  await client.close()
})
