/**
 * Sessions on one node (and on two sharing a store), spoken to by raw `ws` clients on 127.0.0.1, port 0: the
 * welcome and its token, resume, the zombie of an older generation, TTL while connected and after, and tokens
 * that are forged or belong to another cluster.
 */
import { describe, expect, it } from 'vitest'
import { CloseCode, ErrorCode } from '@lifeline/protocol'
import { MemoryStore } from '../src/store/memory.js'
import { signSession, verifyToken } from '../src/security/token.js'
import { isAck } from './fixtures/raw-client.js'
import { useNodes } from './support/nodes.js'

const { start, connect } = useNodes({ secret: 'test-secret' })

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
      thief.sendHello({ '@inbox': { offset: 0, epoch: 'x' } }, token)
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
})
