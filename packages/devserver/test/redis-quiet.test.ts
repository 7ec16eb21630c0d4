/**
 * A quiet topic across a Redis restart (found by the simulation): every restart starts new epochs, and what
 * Redis had not yet published to a node's subscriber connection is lost with it. If the topic (an inbox, say)
 * then stays quiet, no later message reveals the change, and a reader would never learn that its log was
 * replaced: a loss told to nobody. The node's live fan-out must tell the reader without waiting for a message.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createClient, type WebSocketConstructor } from '@lifeline/sdk'
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
  redis = await startRedisServer()
  store = await createRedisStore(redis.url)
  node = await createNode({ id: 'q1', store, secret: 'quiet-test', port: 0 })
})
afterAll(async () => {
  await node?.close()
  await store?.close()
  await redis?.close()
})

it('a reader of a quiet topic hears of the new epoch after a Redis restart, with no new message', async () => {
  const client = createClient({ url: node.url, WebSocket: NodeWebSocket, backoff: { minMs: 20, maxMs: 200 } })
  const gaps: { topic: string; reason: string; epoch: string }[] = []
  const got: number[] = []
  client.on('gap', (g) => gaps.push({ topic: g.topic, reason: g.reason, epoch: g.epoch }))
  client.on('message', (m) => m.topic === 'quiet' && got.push(m.data as number))
  await client.subscribe('quiet')
  await client.publish('quiet', 1)
  await waitFor(() => got.length === 1, 'the one message')
  const before = (await store.head('quiet')).epoch
  await redis.restart('SIGKILL')
  await waitFor(() => gaps.some((g) => g.topic === 'quiet'), 'a gap on the quiet topic', 10_000).catch(() => {})
  console.log(`[redis-quiet] gaps after the restart: ${JSON.stringify(gaps)} (epoch before ${before})`)
  expect(gaps.filter((g) => g.topic === 'quiet')).toEqual([{ topic: 'quiet', reason: 'epoch', epoch: expect.not.stringMatching(before) }])
  await client.close()
})
