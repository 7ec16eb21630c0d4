/**
 * What a real node refuses, and how a real SDK client hears about it: at the call, with a stable code, and
 * never by wedging the session. Frame size (MESSAGE_TOO_BIG), subscriptions (TOO_MANY_SUBSCRIPTIONS), nesting
 * (DATA_TOO_DEEP), a handler that never settles (HANDLER_FAILED), and topic names that are also the names of
 * Object.prototype's members.
 */
import { describe, expect, it } from 'vitest'
import { createClient, ErrorCode, memoryStorage, type ClientOptions, type WebSocketConstructor } from '@lifeline/sdk'
import WebSocket from 'ws'
import { MemoryStore } from '../src/store/memory.js'
import type { NodeOptions } from '../src/node/options.js'
import { useNodes } from './support/nodes.js'
import { waitFor } from './support/wait.js'

const NodeWebSocket = WebSocket as unknown as WebSocketConstructor
const { start, connect } = useNodes({ secret: 'limits' })
const clients: ReturnType<typeof createClient>[] = []

async function setup(node: NodeOptions = {}, client: Partial<ClientOptions> = {}) {
  const n = await start(node)
  const c = createClient({ url: n.url, WebSocket: NodeWebSocket, backoff: { minMs: 10, maxMs: 50 }, ...client })
  clients.push(c)
  const opens: number[] = []
  c.on('state', ({ to }) => to === 'open' && opens.push(Date.now()))
  await waitFor(() => c.state === 'open', 'the client to open')
  return { n, c, opens }
}
/** The promise's rejection code within `ms`, or 'pending' / 'resolved': a call must settle, not hang. */
async function outcome(p: Promise<unknown>, ms = 3_000): Promise<string> {
  const timer = new Promise<string>((r) => setTimeout(() => r('pending'), ms))
  return Promise.race([p.then(() => 'resolved', (e: { code?: string }) => e.code ?? 'error'), timer])
}
const closeAll = () => Promise.all(clients.splice(0).map((c) => c.close()))

describe('frame size', () => {
  it('a message that fits the outbox but not the frame limit is refused at the call (MESSAGE_TOO_BIG); later sends go on', async () => {
    const { c, opens } = await setup()
    const almost = 'x'.repeat(1024 * 1024 - 30) // under outbox.maxBytes (1 MiB), over the frame limit with its envelope
    expect(await outcome(c.publish('big', almost))).toBe(ErrorCode.MESSAGE_TOO_BIG)
    expect(await outcome(c.publish('big', 'small'))).toBe('resolved')
    expect(c.pending).toBe(0)
    expect(opens).toHaveLength(1) // no 1009, no reconnect loop
    await closeAll()
  })

  it('with outbox.maxBytes raised, a message over the server limit (told in welcome) is refused too, of any size', async () => {
    const { c, opens } = await setup({ maxFrameBytes: 64 * 1024 }, { outbox: { maxBytes: 8 * 1024 * 1024 } })
    expect(await outcome(c.send('y'.repeat(100 * 1024)))).toBe(ErrorCode.MESSAGE_TOO_BIG)
    expect(await outcome(c.publish('big', 'z'.repeat(3 * 1024 * 1024)))).toBe(ErrorCode.MESSAGE_TOO_BIG)
    expect(await outcome(c.publish('big', 'ok'))).toBe('resolved')
    expect(opens).toHaveLength(1)
    await closeAll()
  })
})

describe('subscriptions', () => {
  it('1,000 topics plus @inbox are accepted and survive a reconnect; the 1,001st is refused at the call', async () => {
    const { c, opens } = await setup()
    const topics = Array.from({ length: 1_000 }, (_, i) => `room:${i}`)
    const results = await Promise.all(topics.map((t) => outcome(c.subscribe(t), 10_000)))
    expect(results.filter((r) => r !== 'resolved')).toEqual([])
    expect(await outcome(c.subscribe('one-too-many'))).toBe(ErrorCode.TOO_MANY_SUBSCRIPTIONS)
    expect(c.state).toBe('open')
    c.reconnect() // the next hello carries 1,000 topics and @inbox: the server must take it
    await waitFor(() => opens.length === 2, 'the client to open again', 10_000)
    expect(await outcome(c.publish('room:999', 'still here'))).toBe('resolved')
    await closeAll()
  })

  it('a raw hello with more topics than the limit: the excess is refused topic by topic, the connection stays', async () => {
    const node = await start({ maxSubscriptions: 3 })
    const raw = await connect(node)
    await raw.hello({ '@inbox': null, a: null, b: null, c: null, d: null })
    const refused = await raw.next((f) => f.t === 'error' && f.topic === 'd')
    expect(refused).toMatchObject({ code: ErrorCode.TOO_MANY_SUBSCRIPTIONS })
    await raw.next((f) => f.t === 'subscribed' && f.topic === 'c')
    expect(raw.frames.filter((f) => f.t === 'subscribed').map((f) => (f as { topic: string }).topic).sort()).toEqual(['@inbox', 'a', 'b', 'c'])
  })
})

describe('data nesting', () => {
  const deep = (n: number): unknown => (n === 0 ? 'leaf' : [deep(n - 1)])
  it('the SDK refuses data deeper than 64 levels at the call (DATA_TOO_DEEP)', async () => {
    const { c } = await setup()
    expect(await outcome(c.publish('t', deep(6_000)))).toBe(ErrorCode.DATA_TOO_DEEP)
    expect(await outcome(c.publish('t', deep(64)))).toBe('resolved')
    await closeAll()
  })

  it('a raw 6,000-deep pub is refused with its seq (DATA_TOO_DEEP), before anything is applied; the topic is not poisoned', async () => {
    const store = new MemoryStore()
    const node = await start({ store })
    const reader = await connect(node)
    await reader.hello({ '@inbox': null, poison: null })
    await reader.next((f) => f.t === 'subscribed' && f.topic === 'poison')
    const writer = await connect(node)
    await writer.hello({})
    const text = `{"t":"pub","seq":1,"topic":"poison","data":${'['.repeat(6_000)}${']'.repeat(6_000)}}`
    writer.send(text)
    const refused = await writer.next((f) => f.t === 'error')
    expect(refused).toMatchObject({ code: ErrorCode.DATA_TOO_DEEP, seq: 1 })
    await writer.next((f) => f.t === 'ack' && f.seq === 1) // its seq is consumed, so the outbox moves on
    writer.send({ t: 'pub', seq: 2, topic: 'poison', data: 'fine' })
    await writer.next((f) => f.t === 'ack' && f.seq === 2)
    const msg = await reader.next((f) => f.t === 'msg' && f.topic === 'poison')
    expect(msg).toMatchObject({ offset: 1, data: 'fine' })
    expect((await store.head('poison')).last).toBe(1)
  })
})

describe('handlers', () => {
  it('an onMessage that never settles is cut after handlerTimeoutMs: HANDLER_FAILED, and later sends go on', async () => {
    let calls = 0
    const { c } = await setup({
      handlerTimeoutMs: 300,
      onMessage: (ctx, data) => {
        calls += 1
        if (data === 'hang') return new Promise<void>(() => {}) // never settles
        ctx.reply({ echo: data })
      },
    })
    expect(await outcome(c.send('hang'))).toBe(ErrorCode.HANDLER_FAILED)
    expect(await outcome(c.send('next'))).toBe('resolved')
    expect(calls).toBe(2)
    await closeAll()
  })
})

describe('topic names that are Object.prototype members', () => {
  it('__proto__, constructor and toString are topics like any other, across a reconnect and a reload', async () => {
    const storage = memoryStorage()
    const { n, c, opens } = await setup({}, { persist: storage, persistKey: 'proto' })
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty']
    const got: string[] = []
    c.on('message', (m) => names.includes(m.topic) && got.push(`${m.topic}:${String(m.data)}`))
    for (const t of names) expect(await outcome(c.subscribe(t))).toBe('resolved')
    for (const t of names) await c.publish(t, 1)
    await waitFor(() => got.length === 4, 'one message per topic')
    c.reconnect()
    await waitFor(() => opens.length === 2, 'the client to open again')
    for (const t of names) await c.publish(t, 2)
    await waitFor(() => got.length === 8, 'the topics to survive the reconnect (hello.subs)', 5_000).catch(() => {})
    expect(got.sort()).toEqual(names.flatMap((t) => [`${t}:1`, `${t}:2`]).sort())
    await c.close()
    // A reload: the positions come back from storage, __proto__ among them, so what was published meanwhile
    // is replayed from there rather than lost behind "live from now".
    const publisher = createClient({ url: n.url, WebSocket: NodeWebSocket })
    clients.push(publisher)
    for (const t of names) await publisher.publish(t, 3)
    const reloaded = createClient({ url: n.url, WebSocket: NodeWebSocket, persist: storage, persistKey: 'proto' })
    clients.push(reloaded)
    const after: string[] = []
    reloaded.on('message', (m) => names.includes(m.topic) && after.push(`${m.topic}:${String(m.data)}`))
    for (const t of names) await reloaded.subscribe(t)
    await waitFor(() => after.length === 4, 'the reloaded client to replay what it missed', 5_000).catch(() => {})
    expect(after.sort()).toEqual(names.map((t) => `${t}:3`).sort())
    await closeAll()
  })
})
