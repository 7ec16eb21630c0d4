/**
 * The Redis store's live fan-out logic (src/store/redis-live.ts) without Redis: a fake log plus a fake
 * pub/sub that can drop, duplicate and reorder, so every repair path is exercised deterministically.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { LiveFanout, type LiveSource } from '../src/store/redis-live.js'
import type { StoredMessage } from '../src/store/types.js'

class FakeRedis implements LiveSource {
  epoch = 'e1'
  log: StoredMessage[] = []
  listeners = new Map<string, (m: StoredMessage) => void>()
  /** While false, PUBLISH reaches nobody (the subscriber connection is down). */
  connected = true

  append(topic: string, publish = true): StoredMessage {
    const m = { topic, offset: this.log.length + 1, epoch: this.epoch, data: this.log.length + 1, time: 0 }
    this.log.push(m)
    if (publish) this.publish(m)
    return m
  }
  publish(m: StoredMessage): void {
    if (this.connected) this.listeners.get(m.topic)?.(m)
  }
  /** Redis lost everything: a new epoch, offsets from 1. */
  lose(): void {
    this.epoch = 'e2'
    this.log = []
  }
  async head() {
    const last = this.log.length
    return { epoch: this.epoch, last, first: last === 0 ? 1 : this.log[0]!.offset }
  }
  async read(_topic: string, from: number, limit: number) {
    return this.log.filter((m) => m.offset >= from).slice(0, limit)
  }
  async listen(topic: string, fn: (m: StoredMessage) => void) {
    this.listeners.set(topic, fn)
  }
  async unlisten(topic: string) {
    this.listeners.delete(topic)
  }
}

const settle = () => new Promise((r) => setTimeout(r, 0))
/** Errors the fan-out reported: none of these scenarios should produce one. */
const errors: unknown[] = []
afterEach(() => {
  expect(errors.splice(0)).toEqual([])
})

async function setup() {
  const redis = new FakeRedis()
  const fanout = new LiveFanout(redis, (e) => errors.push(e))
  const seen: string[] = []
  const off = fanout.subscribe('t', (m) => seen.push(`${m.epoch}:${m.offset}`))
  await settle()
  return { redis, fanout, seen, off }
}

describe('redis live fan-out', () => {
  it('delivers from the head at subscribe time, in order', async () => {
    const redis = new FakeRedis()
    redis.append('t', false)
    redis.append('t', false)
    const fanout = new LiveFanout(redis, (e) => errors.push(e))
    const seen: number[] = []
    fanout.subscribe('t', (m) => seen.push(m.offset))
    await settle()
    for (let i = 0; i < 3; i++) redis.append('t')
    await settle()
    expect(seen).toEqual([3, 4, 5])
  })

  it('drops duplicates and re-orders what pub/sub delivers out of order', async () => {
    const { redis, seen } = await setup()
    const [a, b, c] = [redis.append('t', false), redis.append('t', false), redis.append('t', false)]
    redis.publish(b)
    redis.publish(a)
    redis.publish(a)
    redis.publish(c)
    redis.publish(b)
    for (let i = 0; i < 5; i++) await settle()
    expect(seen).toEqual(['e1:1', 'e1:2', 'e1:3'])
  })

  it('tells its listeners when a resync finds the log in a new epoch, though no message of it may ever come (found by the simulation)', async () => {
    const redis = new FakeRedis()
    const fanout = new LiveFanout(redis, (e) => errors.push(e))
    const seen: string[] = []
    let resyncs = 0
    fanout.subscribe('quiet', (m) => seen.push(`${m.epoch}:${m.offset}`), () => resyncs++)
    await settle()
    redis.append('quiet')
    await settle()
    // Redis restarts: the last message was still in its output buffer (lost), and the new log stays empty.
    redis.append('quiet', false)
    redis.lose()
    fanout.resyncAll()
    for (let i = 0; i < 5; i++) await settle()
    expect(seen).toEqual(['e1:1'])
    expect(resyncs).toBe(1) // without it, a reader of this quiet topic would never learn that 2 is gone
  })

  it('fills a hole from the log when a later message reveals it', async () => {
    const { redis, seen } = await setup()
    redis.append('t')
    redis.append('t', false) // dropped by pub/sub
    redis.append('t', false)
    redis.append('t')
    for (let i = 0; i < 5; i++) await settle()
    expect(seen).toEqual(['e1:1', 'e1:2', 'e1:3', 'e1:4'])
  })

  it('delivers a tail missed while disconnected once resyncAll runs (no later message needed)', async () => {
    const { redis, fanout, seen } = await setup()
    redis.append('t')
    redis.connected = false
    redis.append('t')
    redis.append('t')
    redis.connected = true
    await settle()
    expect(seen).toEqual(['e1:1'])
    fanout.resyncAll()
    for (let i = 0; i < 5; i++) await settle()
    expect(seen).toEqual(['e1:1', 'e1:2', 'e1:3'])
  })

  it('follows a new epoch from its first offset when Redis lost the log', async () => {
    const { redis, fanout, seen } = await setup()
    redis.append('t')
    redis.append('t')
    redis.lose()
    redis.connected = false
    redis.append('t')
    redis.connected = true
    redis.append('t')
    for (let i = 0; i < 5; i++) await settle()
    fanout.resyncAll()
    for (let i = 0; i < 5; i++) await settle()
    expect(seen).toEqual(['e1:1', 'e1:2', 'e2:1', 'e2:2'])
  })

  it('stops listening when the last listener leaves', async () => {
    const { redis, fanout, seen, off } = await setup()
    off()
    await settle()
    expect(redis.listeners.size).toBe(0)
    expect(fanout.topics).toBe(0)
    redis.append('t')
    expect(seen).toEqual([])
  })
})
