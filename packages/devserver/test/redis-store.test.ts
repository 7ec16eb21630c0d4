/**
 * The Redis store against a real redis-server started on a free loopback port: the shared store contract,
 * then what only Redis has: state that survives a Redis restart, a new epoch when Redis loses its data,
 * fast STORE_UNAVAILABLE while it is down, and live fan-out that fills in what pub/sub dropped meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorCode } from '@lifeline/protocol'
import { createRedisStore } from '../src/store/redis-store.js'
import type { StoredMessage } from '../src/store/types.js'
import { storeContract } from './store-contract.js'
import { startRedisServer, type RedisServer } from './support/redis-server.js'
import { waitFor } from './support/wait.js'

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedisServer()
})
afterAll(async () => {
  await redis?.close()
})

storeContract('redis', (o) => createRedisStore(redis.url, { retention: o.retention }))

describe('redis store: what only Redis has', () => {
  const unique = (p: string) => `${p}-${Math.random().toString(36).slice(2, 10)}`
  const open = (o: Parameters<typeof createRedisStore>[1] = {}) => createRedisStore(redis.url, o)

  it('keeps sessions across a Redis restart (AOF), gives topics a new epoch, and re-delivers live messages missed meanwhile', async () => {
    const writer = await open()
    const reader = await open()
    try {
      const [sid, topic] = [unique('s'), unique('t')]
      await writer.createSession(sid, 60_000, { generation: 1, instance: undefined, attempt: 0 })
      const seen: StoredMessage[] = []
      reader.subscribe(topic, (m) => seen.push(m))
      const first = await writer.apply({ session: sid, generation: 1, seq: 1, appends: [{ topic, data: 'before' }] })
      expect(first.status).toBe('applied')
      await waitFor(() => seen.length === 1, 'the first live message')
      const reports = { writer: [] as boolean[], reader: [] as boolean[] }
      writer.onAvailability((up) => reports.writer.push(up))
      reader.onAvailability((up) => reports.reader.push(up))

      await redis.stop()
      await waitFor(() => reports.writer.includes(false), 'the store to report Redis down')
      const t0 = Date.now()
      const refused = await writer.apply({ session: sid, generation: 1, seq: 2, appends: [{ topic, data: 'x' }] }).catch((e: unknown) => e)
      expect(refused).toMatchObject({ code: ErrorCode.STORE_UNAVAILABLE })
      // Fails fast (offline queue off), well before the 2 s command timeout, even on a loaded CI machine: the
      // node answers at once and the client's outbox keeps the message.
      expect(Date.now() - t0).toBeLessThan(1_000)

      await redis.start()
      await waitFor(() => reports.writer.at(-1) === true && reports.reader.at(-1) === true, 'both stores to report Redis up', 10_000)
      const claimed = await writer.claimSession(sid, 60_000, { presented: 1, next: 2, instance: undefined, attempt: 0, lastSeq: 1 })
      expect(claimed).toMatchObject({ status: 'claimed', record: { acked: 1, generation: 2 } })
      for (let seq = 2; seq <= 10; seq++) {
        const r = await writer.apply({ session: sid, generation: 2, seq, appends: [{ topic, data: seq }] })
        expect(r.status).toBe('applied')
      }
      // Now drop only the reader's subscriber connection and keep it away (Redis refuses new connections
      // while maxclients is at the current count) while the writer appends: these PUBLISHes reach nobody and
      // no later message reveals the hole, so only the resync after the reconnect can deliver them.
      await waitFor(() => seen.length === 10, 'the live messages before the subscriber drop')
      const raw = await import('redis').then((r) => r.createClient({ url: redis.url }).connect())
      const clients = String(await raw.sendCommand(['CLIENT', 'LIST'])).trim().split('\n').length
      await raw.sendCommand(['CONFIG', 'SET', 'maxclients', String(clients - 1)])
      const dropped = reports.reader.length
      expect(await raw.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub'])).toBe(1)
      for (let seq = 11; seq <= 20; seq++) {
        const r = await writer.apply({ session: sid, generation: 2, seq, appends: [{ topic, data: seq }] })
        expect(r.status).toBe('applied')
      }
      await raw.sendCommand(['CONFIG', 'SET', 'maxclients', '10000'])
      raw.destroy()
      await waitFor(() => reports.reader.length >= dropped + 2, 'the reader to drop and come back', 10_000)
      expect(reports.reader.slice(dropped)).toEqual([false, true])
      await waitFor(() => seen.length >= 20, 'every live message after the restart')
      await new Promise((r) => setTimeout(r, 100)) // a late duplicate would arrive within this
      // The restarted Redis may have started from an older file (nothing inside it can tell): the topic's epoch
      // was replaced, its offsets restart at 1, and the listener sees the change rather than reused offsets.
      const [before, ...after] = seen
      expect(before).toMatchObject({ offset: 1, data: 'before' })
      expect(after.map((m) => m.offset)).toEqual(Array.from({ length: 19 }, (_, i) => i + 1))
      expect(after.map((m) => m.data)).toEqual(Array.from({ length: 19 }, (_, i) => i + 2))
      expect(new Set(after.map((m) => m.epoch))).toEqual(new Set([after[0]!.epoch]))
      expect(after[0]!.epoch).not.toBe(before!.epoch)
      console.log(`redis restart (store level): delivered=${seen.length} expected=20 lost=0 duplicated=0 epochs=2`)
    } finally {
      await writer.close()
      await reader.close()
    }
  })

  it('subscribes a topic asked for while Redis is down once Redis is back', async () => {
    const store = await open({ commandTimeoutMs: 300 })
    try {
      const topic = unique('later')
      const reports: boolean[] = []
      store.onAvailability((up) => reports.push(up))
      await redis.stop()
      await waitFor(() => reports.includes(false), 'the store to report Redis down')
      const seen: number[] = []
      store.subscribe(topic, (m) => seen.push(m.offset))
      // Longer than the command timeout: the queued SUBSCRIBE fails and must be retried after the reconnect.
      await new Promise((r) => setTimeout(r, 500))
      await redis.start()
      await waitFor(() => reports.at(-1) === true, 'the store to report Redis up', 10_000)
      for (let i = 0; i < 3; i++) await store.append(topic, i)
      await waitFor(() => seen.length === 3, 'live messages on the late subscription')
      expect(seen).toEqual([1, 2, 3])
    } finally {
      await store.close()
    }
  })

  it('starts a new epoch when Redis loses the topic, so readers see an explicit change', async () => {
    const store = await open({ prefix: unique('lost') + ':' })
    try {
      const topic = unique('t')
      const e1 = (await store.append(topic, 1)).epoch
      await store.append(topic, 2)
      // What a Redis restart without persistence (or an eviction) does to a topic: its keys vanish.
      const raw = await import('redis').then((r) => r.createClient({ url: redis.url }).connect())
      await raw.flushAll()
      raw.destroy()
      const head = await store.head(topic)
      expect(head.epoch).not.toBe(e1)
      expect(head).toMatchObject({ last: 0, first: 1 })
      expect(await store.append(topic, 3)).toMatchObject({ offset: 1, epoch: head.epoch })
    } finally {
      await store.close()
    }
  })

  it('fills a hole in the live stream from the log (pub/sub dropped a message)', async () => {
    const store = await open()
    try {
      const topic = unique('hole')
      const seen: number[] = []
      store.subscribe(topic, (m) => seen.push(m.offset))
      await store.append(topic, 'probe')
      await waitFor(() => seen.length === 1, 'the probe')
      // Append behind pub/sub's back (straight into the log, no PUBLISH), then a normal append: the reader
      // sees offset 3 after 1 and must read 2 from the log.
      const raw = await import('redis').then((r) => r.createClient({ url: redis.url }).connect())
      await raw.hIncrBy(`lifeline:m:${topic}`, 'last', 1)
      await raw.xAdd(`lifeline:l:${topic}`, '2-0', { d: '"silent"', ts: String(Date.now()) })
      raw.destroy()
      await store.append(topic, 'after')
      await waitFor(() => seen.length === 3, 'the hole to be filled')
      expect(seen).toEqual([1, 2, 3])
    } finally {
      await store.close()
    }
  })

  it('fails with a clear error when Redis is not reachable at start', async () => {
    const err = await createRedisStore('redis://127.0.0.1:1', { connectTimeoutMs: 300 }).catch((e: unknown) => e)
    expect(String(err)).toMatch(/not reachable within 300 ms/)
  })
})
