/**
 * The HTTP API for apps' backends (/_lifeline/v1/…) on real nodes' own HTTP servers, called with fetch and with
 * the typed client (createServerApi): API keys, idempotent publish (retried → one message), the refusals a
 * client's publish would get, a store failure that is safe to retry, history with its gap, presence of users
 * with tokens, and disconnect-by-user across two nodes.
 */
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createClient } from '@lifeline/sdk'
import { CloseCode } from '@lifeline/protocol'
import { createServerApi, ServerApiError } from '../src/api/client.js'
import { MemoryStore } from '../src/store/memory.js'
import type { OnceResult } from '../src/store/types.js'
import type { LifelineNode } from '../src/node/node.js'
import { useNodes } from './support/nodes.js'
import { API_KEY, helloWithToken, JWT_SECRET, userToken } from './support/tokens.js'
import { waitFor } from './support/wait.js'

const nodes = useNodes({ apiKeys: [API_KEY], auth: { jwt: { secret: JWT_SECRET } } })
const httpOf = (node: LifelineNode) => `http://127.0.0.1:${node.port}`

async function post(node: LifelineNode, route: string, body: unknown, key: string | null = API_KEY): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${httpOf(node)}/_lifeline/v1/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: res.status, body: await res.json(), headers: res.headers }
}
async function get(node: LifelineNode, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${httpOf(node)}/_lifeline/v1/${path}`, { headers: { authorization: `Bearer ${API_KEY}` } })
  return { status: res.status, body: await res.json() }
}
const code = (r: { status: number; body: any }) => [r.status, r.body?.error?.code]

describe('HTTP API: keys', () => {
  it('is off (403 API_DISABLED) without a key; 401 UNAUTHORIZED without a Bearer key or with a wrong one', async () => {
    const off = await nodes.start({ apiKeys: undefined })
    expect(code(await post(off, 'publish', { topic: 't', data: 1 }))).toEqual([403, 'API_DISABLED'])
    const node = await nodes.start()
    expect(code(await post(node, 'publish', { topic: 't', data: 1 }, null))).toEqual([401, 'UNAUTHORIZED'])
    expect(code(await post(node, 'publish', { topic: 't', data: 1 }, 'not-the-key-0123456789'))).toEqual([401, 'UNAUTHORIZED'])
    expect(code(await post(node, 'publish', { topic: 't', data: 1 }))).toEqual([200, undefined])
    // /healthz and other paths are not the API's.
    expect((await fetch(`${httpOf(node)}/healthz`)).status).toBe(200)
  })
})

describe('HTTP API: publish', () => {
  it('appends and delivers to subscribers, with no `from`; a key retried 3 times (and 3 at once) appends once', async () => {
    const node = await nodes.start()
    const c = await nodes.connect(node)
    await helloWithToken(c, await userToken('reader'), { '@inbox': null, news: null })
    await c.next((f) => f.t === 'subscribed')
    const first = await post(node, 'publish', { topic: 'news', data: { n: 1 }, idempotencyKey: 'job-1' })
    expect(first.status).toBe(200)
    expect(first.body).toEqual({ topic: 'news', offset: 1, epoch: expect.any(String) })
    expect(first.headers.get('idempotent-replayed')).toBeNull()
    const retries = [await post(node, 'publish', { topic: 'news', data: { n: 1 }, idempotencyKey: 'job-1' }), await post(node, 'publish', { topic: 'news', data: { n: 1 }, idempotencyKey: 'job-1' })]
    const concurrent = await Promise.all([1, 2, 3].map(() => post(node, 'publish', { topic: 'news', data: { n: 2 }, idempotencyKey: 'job-2' })))
    expect(retries.map((r) => [r.status, r.body.offset, r.headers.get('idempotent-replayed')])).toEqual([[200, 1, 'true'], [200, 1, 'true']])
    expect(concurrent.map((r) => r.body.offset)).toEqual([2, 2, 2])
    // The same key for other data is a mistake, said so.
    expect(code(await post(node, 'publish', { topic: 'news', data: { n: 9 }, idempotencyKey: 'job-1' }))).toEqual([409, 'IDEMPOTENCY_CONFLICT'])
    await c.until(() => c.msgs('news').length >= 2)
    await node.publish('news', 'marker')
    await c.until(() => c.msgs('news').length >= 3)
    // 6 publish requests, 2 keys: 2 messages, then the marker.
    expect(c.msgs('news').map((m) => [m.offset, m.data, 'from' in m])).toEqual([[1, { n: 1 }, false], [2, { n: 2 }, false], [3, 'marker', false]])
    console.log('idempotent publish: 6 requests with 2 keys (3 sequential, 3 concurrent) -> 2 messages')
  })

  it('refuses what a client\'s publish would be refused, with the same codes, and bad requests with theirs', async () => {
    const node = await nodes.start({ maxFrameBytes: 4096 })
    let deep: unknown = 'x'
    for (let i = 0; i < 70; i++) deep = [deep]
    const cases = {
      tooBig: await post(node, 'publish', { topic: 't', data: 'x'.repeat(5000) }),
      tooDeep: await post(node, 'publish', { topic: 't', data: deep }),
      reserved: await post(node, 'publish', { topic: '@inbox', data: 1 }),
      badTopic: await post(node, 'publish', { topic: 'has space', data: 1 }),
      noData: await post(node, 'publish', { topic: 't' }),
      notJson: await post(node, 'publish', '{"topic":'),
      badKey: await post(node, 'publish', { topic: 't', data: 1, idempotencyKey: '' }),
      noRoute: await post(node, 'nope', {}),
      wrongMethod: await get(node, 'publish'),
      badFrom: await get(node, 'history?topic=t&from=-1'),
    }
    expect(Object.fromEntries(Object.entries(cases).map(([k, r]) => [k, code(r)]))).toEqual({
      tooBig: [413, 'MESSAGE_TOO_BIG'],
      tooDeep: [400, 'DATA_TOO_DEEP'],
      reserved: [400, 'RESERVED_TOPIC'],
      badTopic: [400, 'BAD_OPTION'],
      noData: [400, 'BAD_OPTION'],
      notJson: [400, 'BAD_REQUEST'],
      badKey: [400, 'BAD_OPTION'],
      noRoute: [404, 'NOT_FOUND'],
      wrongMethod: [405, 'METHOD_NOT_ALLOWED'],
      badFrom: [400, 'BAD_OPTION'],
    })
  })

  it('answers 503 STORE_UNAVAILABLE when the store fails, and a retry with the same key applies once', async () => {
    // The store applied the first try but its answer was lost (a Redis reply that timed out): the worst case.
    class LosesFirstAnswer extends MemoryStore {
      lost = 0
      override async appendOnce(topic: string, data: unknown, once: { key: string; fingerprint: string; ttlMs: number }): Promise<OnceResult> {
        const r = await super.appendOnce(topic, data, once)
        if (this.lost++ === 0) throw new Error('no reply within 2000 ms')
        return r
      }
    }
    const store = new LosesFirstAnswer()
    const node = await nodes.start({ store })
    expect(code(await post(node, 'publish', { topic: 'orders', data: 'shipped', idempotencyKey: 'order-7' }))).toEqual([503, 'STORE_UNAVAILABLE'])
    store.lost = 0
    // The typed client retries a 503 itself, with the key.
    const api = createServerApi({ url: httpOf(node), apiKey: API_KEY })
    expect(await api.publish('orders', 'shipped', { idempotencyKey: 'order-8' })).toMatchObject({ topic: 'orders', offset: 2 })
    expect(await api.publish('orders', 'shipped', { idempotencyKey: 'order-7' })).toMatchObject({ offset: 1 })
    expect((await store.read('orders', 1, 10)).map((m) => m.data)).toEqual(['shipped', 'shipped'])
    // Without a key nothing is retried: the 503 reaches the caller.
    store.lost = 0
    class FailsAppend extends MemoryStore {
      override async append(): Promise<never> {
        throw new Error('store down')
      }
    }
    const down = await nodes.start({ store: new FailsAppend() })
    const err = await createServerApi({ url: httpOf(down), apiKey: API_KEY }).publish('x', 1).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ServerApiError)
    expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503 })
  })
})

describe('HTTP API: history, presence, disconnect', () => {
  it('history: a range with `from` on a client\'s publishes, the tail, and the gap when `from` is out of retention', async () => {
    const store = new MemoryStore({ retention: { maxMessages: 4 } })
    const node = await nodes.start({ store })
    const c = await nodes.connect(node)
    await helloWithToken(c, await userToken('alice'))
    for (let seq = 1; seq <= 3; seq++) c.send({ t: 'pub', seq, topic: 'log', data: seq })
    await c.next((f) => f.t === 'ack' && f.seq === 3)
    const api = createServerApi({ url: httpOf(node), apiKey: API_KEY })
    for (let i = 4; i <= 6; i++) await api.publish('log', i)
    const range = await api.history('log', { from: 3, limit: 2 })
    expect(range).toMatchObject({ topic: 'log', last: 6, messages: [{ offset: 3, data: 3, from: 'alice' }, { offset: 4, data: 4 }] })
    expect('from' in range.messages[1]!).toBe(false)
    expect(range.gap).toBeUndefined()
    const gap = await api.history('log', { from: 1 })
    expect(gap.gap).toEqual({ reason: 'retention', from: 1, to: 2 })
    expect(gap.messages.map((m) => m.offset)).toEqual([3, 4, 5, 6])
    expect((await api.history('log', { limit: 2 })).messages.map((m) => m.offset)).toEqual([5, 6])
    expect((await api.history('never-written')).messages).toEqual([])
  })

  it('presence: users with tokens subscribed to the topic, by session', async () => {
    const node = await nodes.start()
    for (const user of ['bob', 'alice', 'alice']) {
      const c = await nodes.connect(node)
      await helloWithToken(c, await userToken(user), { '@inbox': null, room: null })
      await c.next((f) => f.t === 'subscribed' && f.topic === 'room')
    }
    const api = createServerApi({ url: httpOf(node), apiKey: API_KEY })
    await waitFor(async () => (await api.presence('room')).users.length === 2, 'both users present')
    expect(await api.presence('room')).toEqual({ topic: 'room', users: [{ user: 'alice', sessions: 2 }, { user: 'bob', sessions: 1 }] })
    expect(await get(node, 'presence?topic=%40inbox')).toMatchObject({ status: 400, body: { error: { code: 'RESERVED_TOPIC' } } })
  })

  it('disconnect closes every connection of the user on every node (4441) and says how many; the SDK gets a new token first', async () => {
    const store = new MemoryStore()
    const [a, b] = [await nodes.start({ store, id: 'api-a' }), await nodes.start({ store, id: 'api-b' })]
    const alice = [await nodes.connect(a), await nodes.connect(b)]
    for (const c of alice) await helloWithToken(c, await userToken('alice'))
    const bob = await nodes.connect(a)
    await helloWithToken(bob, await userToken('bob'))
    let tokens = 0
    const sdk = createClient({ url: b.url, WebSocket, token: () => (tokens++, userToken('alice')), backoff: { minMs: 10, maxMs: 50 } })
    try {
      await sdk.subscribe('room')
      const answer = await createServerApi({ url: httpOf(a), apiKey: API_KEY }).disconnect('alice')
      expect(answer).toEqual({ closed: 3 })
      for (const c of alice) expect((await c.closed).code).toBe(CloseCode.DISCONNECTED)
      // The SDK asked for a token again before it reconnected, and is back, in the same session.
      const session = sdk.sessionId
      await waitFor(() => tokens === 2 && sdk.state === 'open', 'the SDK back with a new token')
      expect(sdk.sessionId).toBe(session)
      expect(bob.closedAt).toBeUndefined()
      expect(await createServerApi({ url: httpOf(b), apiKey: API_KEY }).disconnect('nobody')).toEqual({ closed: 0 })
    } finally {
      await sdk.close()
    }
  })
})
