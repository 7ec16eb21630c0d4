/**
 * The node speaking the protocol to raw `ws` clients on 127.0.0.1, port 0: sessions, tokens, writes and
 * their acks, and every refusal with its code.
 */
import { describe, expect, it } from 'vitest'
import { CloseCode, ErrorCode, type ErrorFrame } from '@lifeline/protocol'
import type { LifelineNode } from '../src/node/node.js'
import { MemoryStore } from '../src/store/memory.js'
import { signSession, verifyToken } from '../src/security/token.js'
import { RawClient } from './fixtures/raw-client.js'
import { useNodes } from './support/nodes.js'

const { start, connect } = useNodes({ secret: 'test-secret' })
const isAck = (seq: number) => (f: { t: string; seq?: number }) => f.t === 'ack' && f.seq === seq

describe('node: sessions', () => {
  it('welcomes a new session with a token, and echoes a send to its own inbox', async () => {
    const node = await start({ id: 'n1' })
    const c = await connect(node)
    const welcome = await c.hello()
    expect(welcome).toMatchObject({ resumed: false, node: 'n1', acked: 0, heartbeatMs: 2000, timeoutMs: 5000 })
    expect(verifyToken('test-secret', welcome.session.token)?.session).toBe(welcome.session.id)
    await c.next((f) => f.t === 'subscribed' && f.topic === '@inbox')
    c.send({ t: 'send', seq: 1, data: { hi: 1 } })
    await c.next(isAck(1))
    const msg = await c.next((f) => f.t === 'msg')
    expect(msg).toMatchObject({ topic: '@inbox', offset: 1, data: { hi: 1 } })
  })

  it('resumes with the token: same session, acked carried, generation bumped (older socket gets 4409)', async () => {
    const node = await start()
    const a = await connect(node)
    const w1 = await a.hello()
    a.send({ t: 'pub', seq: 1, topic: 'chat', data: 'x' })
    await a.next(isAck(1))
    const b = await connect(node)
    const w2 = await b.hello({}, w1.session.token)
    expect(w2).toMatchObject({ resumed: true, acked: 1, session: { id: w1.session.id } })
    expect((await a.closed).code).toBe(CloseCode.SESSION_MOVED)
  })

  it('refuses a zombie: a connection of an older generation cannot write (4409), across nodes', async () => {
    const store = new MemoryStore()
    const n1 = await start({ store })
    const n2 = await start({ store })
    const a = await connect(n1)
    const w = await a.hello()
    const b = await connect(n2)
    await b.hello({}, w.session.token) // claims generation 2 on another node; n1 does not know yet
    a.send({ t: 'pub', seq: 1, topic: 'chat', data: 'zombie' })
    expect((await a.closed).code).toBe(CloseCode.SESSION_MOVED)
    expect((await store.head('chat')).last).toBe(0)
    b.send({ t: 'pub', seq: 1, topic: 'chat', data: 'ok' })
    await b.next(isAck(1))
    expect((await store.read('chat', 1, 10)).map((m) => m.data)).toEqual(['ok'])
  })

  it('keeps a connected session alive past its TTL (touch), and lets a disconnected one expire', async () => {
    const node = await start({ sessionTtlMs: 400, heartbeatMs: 100, timeoutMs: 1_000 })
    const kept = await connect(node)
    const keptToken = (await kept.hello({})).session.token
    const gone = await connect(node)
    const goneToken = (await gone.hello({})).session.token
    gone.close()
    await kept.until(() => kept.frames.filter((f) => f.t === 'ping').length >= 12) // ~1.2 s, three TTLs
    const again = await connect(node)
    expect((await again.hello({}, keptToken)).resumed).toBe(true)
    const late = await connect(node)
    expect((await late.hello({}, goneToken)).resumed).toBe(false)
  })

  it('starts a new session (resumed: false) when the token is valid but the session is unknown', async () => {
    const node = await start()
    const c = await connect(node)
    const w = await c.hello({}, signSession('test-secret', 'never-created', 1))
    expect(w.resumed).toBe(false)
    expect(w.session.id).not.toBe('never-created')
  })

  it('refuses a forged or foreign token with INVALID_TOKEN and 4403, and never shows another inbox', async () => {
    const node = await start()
    const victim = await connect(node)
    const vw = await victim.hello()
    victim.send({ t: 'send', seq: 1, data: 'secret' })
    await victim.next(isAck(1))
    for (const token of [`${vw.session.id}.1.AAAA`, signSession('other-cluster', vw.session.id, 1), 'garbage', `${vw.session.id}.`]) {
      const thief = await connect(node)
      thief.send({ t: 'hello', v: 1, resume: { token, lastSeq: 0 }, subs: { '@inbox': { offset: 0, epoch: 'x' } } })
      expect((await thief.closed).code).toBe(CloseCode.INVALID_TOKEN)
      expect(thief.frames).toEqual([expect.objectContaining({ t: 'error', code: ErrorCode.INVALID_TOKEN })])
    }
    // Nor can a topic name reach it: the schema refuses `@inbox:<id>`.
    const thief = await connect(node)
    await thief.hello()
    thief.send({ t: 'sub', topic: `@inbox:${vw.session.id}` })
    expect((await thief.closed).code).toBe(CloseCode.BAD_FRAME)
    expect(thief.msgs(`@inbox:${vw.session.id}`)).toEqual([])
    expect(thief.frames.some((f) => f.t === 'msg' && f.data === 'secret')).toBe(false)
  })

  it('closes 4401 with the reason when authorize refuses', async () => {
    const node = await start({ authorize: (hello) => (hello.subs['vip'] === undefined ? 'vip only' : true) })
    const no = await connect(node)
    no.send({ t: 'hello', v: 1, subs: {} })
    expect(await no.closed).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'vip only' })
    const yes = await connect(node)
    expect((await yes.hello({ vip: null })).resumed).toBe(false)
  })

  it('gives authorize the upgrade request (an app checks a cookie or a query key)', async () => {
    const node = await start({ authorize: (_hello, req) => (new URL(req.url ?? '/', 'http://x').searchParams.get('key') === 'k1' ? true : 'bad key') })
    const no = await connect(`${node.url}?key=nope`)
    no.send({ t: 'hello', v: 1, subs: {} })
    expect(await no.closed).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'bad key' })
    const yes = await connect(`${node.url}?key=k1`)
    expect((await yes.hello({})).resumed).toBe(false)
  })

  it('runs onMessage with ctx.publish/ctx.reply and commits its effects with the seq, once', async () => {
    let runs = 0
    const node = await start({
      onMessage: (ctx, data) => {
        runs += 1
        ctx.publish('room', { from: ctx.session.id, data })
        ctx.reply('got it')
      },
    })
    const c = await connect(node)
    await c.hello({ '@inbox': null, room: null })
    await c.next((f) => f.t === 'subscribed' && f.topic === 'room')
    c.send({ t: 'send', seq: 1, data: 'hey' })
    c.send({ t: 'send', seq: 1, data: 'hey' }) // a resend: acked, handler not run again
    await c.next((f) => f.t === 'ack', 5000, c.frames.findIndex((f) => f.t === 'ack') + 1)
    await c.until(() => c.msgs('room').length === 1 && c.msgs('@inbox').length === 1)
    expect(runs).toBe(1)
  })
})

describe('node: embedded in an app', () => {
  it('attaches to an existing http.Server: the app keeps its routes, healthz via handleHealth, ws on its path', async () => {
    const { createServer } = await import('node:http')
    let node: LifelineNode | undefined
    const app = createServer((req, res) => {
      if (node?.handleHealth(req, res)) return
      res.end('app page')
    })
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r))
    node = await start({ server: app, path: '/live' })
    const port = node.port
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('app page')
    expect((await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).status).toBe('ok')
    const c = await connect(`ws://127.0.0.1:${port}/live?sid=x`)
    expect((await c.hello({})).resumed).toBe(false)
    await node.close()
    // The app's server is the app's: close() leaves it listening.
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('app page')
    await new Promise((r) => app.close(r))
  })
})

describe('node: server-side publish', () => {
  it('publishes from app code to a topic and to one session inbox', async () => {
    const node = await start()
    const c = await connect(node)
    const w = await c.hello({ '@inbox': null, news: null })
    await c.until(() => c.frames.filter((f) => f.t === 'subscribed').length === 2)
    await node.publish('news', 'headline')
    await node.sendToSession(w.session.id, 'just for you')
    await expect(node.publish('@inbox', 'x')).rejects.toThrow(/reserved/)
    await c.until(() => c.msgs('news').length === 1 && c.msgs('@inbox').length === 1)
    expect(c.msgs('@inbox')[0]!.data).toBe('just for you')
  })
})

describe('node: writes', () => {
  it('refuses a send whose handler throws (HANDLER_FAILED with its seq, nothing applied) and goes on with the next', async () => {
    const store = new MemoryStore()
    let runs = 0
    const node = await start({
      store,
      onMessage: (ctx, data) => {
        runs += 1
        ctx.publish('side', data)
        if (data === 'poison') throw new Error('cannot handle poison')
        ctx.reply(data)
      },
    })
    const a = await connect(node)
    await a.hello({ '@inbox': null })
    a.send({ t: 'send', seq: 1, data: 'poison' })
    a.send({ t: 'send', seq: 2, data: 'fine' })
    await a.next(isAck(2))
    const error = a.frames.find((f) => f.t === 'error')
    expect(error).toMatchObject({ code: ErrorCode.HANDLER_FAILED, seq: 1, message: expect.stringContaining('cannot handle poison') })
    await a.until(() => a.msgs('@inbox').length === 1)
    expect(a.msgs('@inbox').map((m) => m.data)).toEqual(['fine'])
    // The refused send's ctx.publish was not applied; the next send's was, once.
    expect((await store.read('side', 1, 10)).map((m) => m.data)).toEqual(['fine'])
    expect(runs).toBe(2)
    // A resend of the refused seq is a duplicate: acked, the handler not run again.
    a.send({ t: 'send', seq: 1, data: 'poison' })
    await a.until(() => a.frames.filter((f) => f.t === 'ack').length >= 3)
    expect(runs).toBe(2)
  })

  it('acks a duplicate seq without applying it twice', async () => {
    const store = new MemoryStore()
    const node = await start({ store })
    const c = await connect(node)
    await c.hello({})
    for (const seq of [1, 2, 2, 1, 3]) c.send({ t: 'pub', seq, topic: 'dup', data: seq })
    await c.until(() => c.frames.filter((f) => f.t === 'ack').length === 5)
    expect(c.frames.filter((f) => f.t === 'ack').map((f) => (f as { seq: number }).seq)).toEqual([1, 2, 2, 2, 3])
    expect((await store.read('dup', 1, 10)).map((m) => m.data)).toEqual([1, 2, 3])
    console.log(`duplicate seq: 5 pubs sent, ${(await store.head('dup')).last} applied, 0 duplicated`)
  })

  it('closes 4422 with SEQ_GAP when a seq skips ahead', async () => {
    const c = await connect(await start())
    await c.hello({})
    c.send({ t: 'pub', seq: 2, topic: 'x', data: 1 })
    expect((await c.closed).code).toBe(CloseCode.SEQ_GAP)
    expect(c.frames.at(-1)).toMatchObject({ t: 'error', code: ErrorCode.SEQ_GAP, message: 'expected seq 1, got 2: resend from 1' })
    // No `seq`: the op was not consumed, the client keeps it and resends it after reconnecting.
    expect(c.frames.at(-1)).not.toHaveProperty('seq')
  })

  it('refuses a pub to @inbox with RESERVED_TOPIC, consuming its seq (error, then ack)', async () => {
    const c = await connect(await start())
    await c.hello({})
    c.send({ t: 'pub', seq: 1, topic: '@inbox', data: 'forged' })
    c.send({ t: 'pub', seq: 2, topic: 'ok', data: 1 })
    await c.next(isAck(2))
    const tail = c.frames.filter((f) => f.t === 'error' || f.t === 'ack')
    expect(tail).toEqual([
      expect.objectContaining({ t: 'error', code: ErrorCode.RESERVED_TOPIC, seq: 1 }),
      { t: 'ack', seq: 1 },
      { t: 'ack', seq: 2 },
    ])
  })

  it('answers STORE_UNAVAILABLE and does not ack when the store fails', async () => {
    const store = new MemoryStore()
    store.apply = () => Promise.reject(new Error('down'))
    const c = await connect(await start({ store }))
    await c.hello({})
    c.send({ t: 'pub', seq: 1, topic: 'x', data: 1 })
    expect((await c.closed).code).toBe(CloseCode.STORE_UNAVAILABLE)
    expect(c.frames.some((f) => f.t === 'ack')).toBe(false)
    expect(c.frames.at(-1)).toMatchObject({ t: 'error', code: ErrorCode.STORE_UNAVAILABLE, seq: 1 })
  })
})

describe('node: bad input', () => {
  it('closes 1009 on a frame over maxFrameBytes', async () => {
    const c = await connect(await start({ maxFrameBytes: 1024 }))
    await c.hello({})
    c.send({ t: 'pub', seq: 1, topic: 'x', data: 'y'.repeat(2000) })
    expect((await c.closed).code).toBe(CloseCode.TOO_BIG)
  })

  it.each([
    ['{nope', ErrorCode.BAD_JSON],
    ['{"t":"boom"}', ErrorCode.UNKNOWN_FRAME],
    ['{"t":"hello","v":1}', ErrorCode.BAD_FRAME],
  ])('answers %s with an error frame (%s) and closes 4400', async (text, code) => {
    const c = await connect(await start())
    c.send(text)
    expect((await c.closed).code).toBe(CloseCode.BAD_FRAME)
    expect(c.frames).toEqual([expect.objectContaining({ t: 'error', code })])
  })

  it('requires hello first (HELLO_EXPECTED, 4400) and only once', async () => {
    const node = await start()
    const c = await connect(node)
    c.send({ t: 'pub', seq: 1, topic: 'x', data: 1 })
    expect((await c.closed).code).toBe(CloseCode.BAD_FRAME)
    expect(c.frames[0]).toMatchObject({ t: 'error', code: ErrorCode.HELLO_EXPECTED })
    const twice = await connect(node)
    await twice.hello({})
    twice.send({ t: 'hello', v: 1, subs: {} })
    expect((await twice.closed).code).toBe(CloseCode.BAD_FRAME)
  })

  it('closes 4426 on an unsupported protocol version', async () => {
    const c = await connect(await start())
    c.send({ t: 'hello', v: 99, subs: {} })
    expect((await c.closed).code).toBe(CloseCode.UNSUPPORTED_VERSION)
  })

  it('closes 4429 past the per-connection rate limit', async () => {
    const c = await connect(await start({ rateLimit: { perSecond: 10, burst: 20 } }))
    await c.hello({})
    for (let i = 0; i < 100; i++) c.send({ t: 'ping' })
    expect((await c.closed).code).toBe(CloseCode.RATE_LIMITED)
    expect(c.frames.some((f) => f.t === 'error' && (f as ErrorFrame).code === ErrorCode.RATE_LIMITED)).toBe(true)
  })
})

describe('node: slow consumers', () => {
  it('closes a client that stops reading once its unsent output passes maxBufferedBytes, without slowing others', async () => {
    const node = await start({ maxBufferedBytes: 512 * 1024 })
    const slow = await connect(node)
    await slow.hello({ firehose: null })
    await slow.next((f) => f.t === 'subscribed')
    const fast = await connect(node)
    await fast.hello({ firehose: null })
    await fast.next((f) => f.t === 'subscribed')
    slow.ws.pause() // stops reading: the kernel buffers fill, then the node's
    const publisher = await connect(node)
    await publisher.hello({})
    const N = 1_000
    const payload = 'p'.repeat(16 * 1024)
    // Paced by acks, so a reader that keeps up never has much unsent; only the paused one piles up.
    for (let seq = 1; seq <= N; seq++) {
      publisher.send({ t: 'pub', seq, topic: 'firehose', data: payload })
      await publisher.next((f) => f.t === 'ack' && f.seq === seq, 10_000, publisher.frames.length - 3)
    }
    await fast.until(() => fast.msgs('firehose').length === N, 15_000)
    await until(() => node.connections === 2, 5_000)
    slow.ws.resume()
    const closed = await slow.closed
    console.log(`slow consumer: closed ${closed.code} after ${slow.msgs('firehose').length} of ${N} msgs; fast client got ${fast.msgs('firehose').length}`)
    expect([CloseCode.SLOW_CONSUMER, 1006]).toContain(closed.code)
    expect(slow.msgs('firehose').length).toBeLessThan(N)
  })
})

describe('node: heartbeat, health and drain', () => {
  it('pings every heartbeatMs and closes a silent client with 4408', async () => {
    const c = await connect(await start({ heartbeatMs: 100, timeoutMs: 400 }))
    await c.hello({})
    c.autoPong = false
    await c.next((f) => f.t === 'ping')
    const started = Date.now()
    expect((await c.closed).code).toBe(CloseCode.HEARTBEAT_TIMEOUT)
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it('keeps a client that answers pings', async () => {
    const c = await connect(await start({ heartbeatMs: 50, timeoutMs: 200 }))
    await c.hello({})
    await c.until(() => c.frames.filter((f) => f.t === 'ping').length >= 8)
    expect(c.ws.readyState).toBe(c.ws.OPEN)
  })

  it('drains: flushes acks, closes clients with 1012, healthz turns 503, new upgrades refused', async () => {
    // A slow store keeps the 50 pubs queued on the node when drain starts: drain must wait for their acks.
    const store = new MemoryStore()
    const apply = store.apply.bind(store)
    store.apply = async (op) => {
      await new Promise((r) => setTimeout(r, 10))
      return apply(op)
    }
    const node = await start({ id: 'dr', store })
    const health = async () => {
      const res = await fetch(`http://127.0.0.1:${node.port}/healthz`)
      return { status: res.status, body: await res.json() }
    }
    const c = await connect(node)
    await c.hello({})
    expect(await health()).toEqual({ status: 200, body: { status: 'ok', id: 'dr', connections: 1 } })
    for (let seq = 1; seq <= 50; seq++) c.send({ t: 'pub', seq, topic: 'd', data: seq })
    await c.next(isAck(1))
    const started = Date.now()
    await node.drain()
    const drainMs = Date.now() - started
    expect((await c.closed).code).toBe(CloseCode.SERVICE_RESTART)
    const acks = c.frames.filter((f) => f.t === 'ack').map((f) => (f as { seq: number }).seq)
    console.log(`drain: ${drainMs} ms, last ack ${acks.at(-1)} of 50 sent`)
    expect(acks.at(-1)).toBe(50)
    expect(drainMs).toBeLessThan(5_000)
    expect((await health()).status).toBe(503)
    await expect(RawClient.connect(node.url)).rejects.toThrow(/503/)
  })
})

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}
