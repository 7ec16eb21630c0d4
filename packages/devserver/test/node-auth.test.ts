/**
 * A node that requires users' JWTs (createNode `auth`), spoken to by raw `ws` clients and by the SDK, with
 * tokens signed by jose as a backend would: each refusal and its reason, topic rights, `from` that no client can
 * forge, and a token's life on an open connection (refreshed before exp without a reconnect; expired, then
 * resumed with a new one).
 */
import { exportSPKI, generateKeyPair } from 'jose'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createClient, type LifelineClient, type LifelineError, type Message } from '@lifeline/sdk'
import { CloseCode, ErrorCode, type ErrorFrame, type ServerFrame } from '@lifeline/protocol'
import { MemoryStore } from '../src/store/memory.js'
import type { SessionOwner, SessionRecord } from '../src/store/types.js'
import { isAck } from './fixtures/raw-client.js'
import { useNodes } from './support/nodes.js'
import { helloWithToken, JWT_SECRET, userToken } from './support/tokens.js'
import { waitFor } from './support/wait.js'

const nodes = useNodes({ auth: { jwt: { secret: JWT_SECRET, issuer: 'app' } } })
const token = (sub: string, claims: Record<string, unknown> = {}, ttl?: number) => userToken(sub, { iss: 'app', ...claims }, ttl)

class CountingSessions extends MemoryStore {
  created = 0
  override createSession(id: string, ttlMs: number, owner: SessionOwner): Promise<SessionRecord> {
    this.created++
    return super.createSession(id, ttlMs, owner)
  }
}

const errors = (frames: ServerFrame[]) => frames.filter((f): f is ErrorFrame => f.t === 'error')

describe('node with JWT auth: the hello', () => {
  it('refuses a hello without a valid token with 4401 UNAUTHORIZED, saying why, before the store is touched', async () => {
    const store = new CountingSessions()
    const node = await nodes.start({ store })
    const other = new TextEncoder().encode('some-other-secret-0123456789-0123')
    const cases = {
      missing: undefined,
      badSignature: await userToken('alice', { iss: 'app' }, 3600, other),
      expired: await token('alice', {}, -10),
      wrongIssuer: await userToken('alice', { iss: 'elsewhere' }),
    }
    const reasons: Record<string, string> = {}
    for (const [name, jwt] of Object.entries(cases)) {
      const c = await nodes.connect(node)
      c.send({ t: 'hello', v: 1, subs: {}, ...(jwt ? { token: jwt } : {}) })
      const closed = await c.closed
      expect(closed.code).toBe(CloseCode.UNAUTHORIZED)
      expect(errors(c.frames).map((f) => f.code)).toEqual([ErrorCode.UNAUTHORIZED])
      reasons[name] = closed.reason
    }
    expect(reasons).toEqual({
      missing: 'token missing: this server requires a JWT in hello.token',
      badSignature: 'token refused: bad signature (not signed with the key this server has)',
      expired: 'token refused: expired (exp is in the past)',
      wrongIssuer: 'token refused: wrong issuer (iss "elsewhere")',
    })
    expect(store.created).toBe(0)
    // And a good one is welcomed.
    const ok = await nodes.connect(node)
    expect((await helloWithToken(ok, await token('alice'))).resumed).toBe(false)
    expect(store.created).toBe(1)
  })

  it('takes ES256 tokens verified with the backend\'s public key (PEM)', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256')
    const node = await nodes.start({ auth: { jwt: { publicKey: await exportSPKI(publicKey) } } })
    const c = await nodes.connect(node)
    await helloWithToken(c, await userToken('bob', {}, 3600, privateKey, 'ES256'))
    const bad = await nodes.connect(node)
    bad.send({ t: 'hello', v: 1, subs: {}, token: await token('bob') }) // HS256: not this node's algorithm
    expect((await bad.closed).reason).toBe('token refused: algorithm not allowed (this server takes ES256)')
  })
})

describe('node with JWT auth: what the token allows', () => {
  it('refuses a subscribe or publish outside the token\'s topics with FORBIDDEN, for that call only', async () => {
    const node = await nodes.start()
    const c = await nodes.connect(node)
    const jwt = await token('alice', { topics: { subscribe: ['room:*'], publish: ['room:1'] } })
    // In the hello too: `secret` is refused there, the allowed topic is subscribed.
    await helloWithToken(c, jwt, { '@inbox': null, 'room:1': null, secret: null })
    await c.next((f) => f.t === 'subscribed' && f.topic === 'room:1')
    c.send({ t: 'sub', topic: 'admin' })
    c.send({ t: 'pub', seq: 1, topic: 'room:2', data: 'not mine to write' })
    c.send({ t: 'pub', seq: 2, topic: 'room:1', data: 'hello' })
    await c.next(isAck(2))
    expect(errors(c.frames).map((f) => [f.code, f.topic, f.seq])).toEqual([
      [ErrorCode.FORBIDDEN, 'secret', undefined],
      [ErrorCode.FORBIDDEN, 'admin', undefined],
      [ErrorCode.FORBIDDEN, 'room:2', 1],
    ])
    // The connection is open, and only the allowed publish was applied.
    await c.next((f) => f.t === 'msg' && f.topic === 'room:1')
    expect(c.msgs('room:1').map((m) => m.data)).toEqual(['hello'])
    expect((await node.publish('room:2', 'probe')).offset).toBe(1)
    // Nor may it read what it cannot subscribe to.
    c.send({ t: 'query', id: 7, kind: 'presence', topic: 'admin' })
    const refused = await c.next<ErrorFrame>((f) => f.t === 'error' && f.id === 7)
    expect(refused.code).toBe(ErrorCode.FORBIDDEN)
  })

  it('stamps every msg with the publisher\'s sub; a `from` in the frame is ignored; server publishes carry none', async () => {
    const node = await nodes.start()
    const alice = await nodes.connect(node)
    const bob = await nodes.connect(node)
    await helloWithToken(alice, await token('alice'))
    await helloWithToken(bob, await token('bob'), { '@inbox': null, chat: null })
    await bob.next((f) => f.t === 'subscribed' && f.topic === 'chat')
    alice.send({ t: 'pub', seq: 1, topic: 'chat', data: { text: 'hi' }, from: 'mallory' })
    alice.send({ t: 'pub', seq: 2, topic: 'chat', data: { text: 'me again', from: 'mallory' } })
    await alice.next(isAck(2))
    await node.publish('chat', 'from the server')
    await bob.until(() => bob.msgs('chat').length === 3)
    expect(bob.msgs('chat').map((m) => [m.data, (m as { from?: string }).from])).toEqual([
      [{ text: 'hi' }, 'alice'],
      [{ text: 'me again', from: 'mallory' }, 'alice'], // data is data; only the frame's `from` is the server's
      ['from the server', undefined],
    ])
  })

  it('an open node (no auth) stamps nothing', async () => {
    const node = await nodes.start({ auth: undefined })
    const c = await nodes.connect(node)
    await c.hello({ '@inbox': null, chat: null })
    await c.next((f) => f.t === 'subscribed' && f.topic === 'chat')
    c.send({ t: 'pub', seq: 1, topic: 'chat', data: 1 })
    await c.next((f) => f.t === 'msg')
    expect('from' in c.msgs('chat')[0]!).toBe(false)
  })

  it('refuses a refresh for another user, and the connection goes on as the first', async () => {
    const node = await nodes.start()
    const c = await nodes.connect(node)
    await helloWithToken(c, await token('alice'), { '@inbox': null, chat: null })
    await c.next((f) => f.t === 'subscribed')
    c.send({ t: 'auth', token: await token('bob') })
    c.send({ t: 'auth', token: 'garbage' })
    c.send({ t: 'pub', seq: 1, topic: 'chat', data: 'still me' })
    await c.next((f) => f.t === 'msg')
    expect(errors(c.frames).map((f) => f.message)).toEqual([
      'token refresh refused (it is for user "bob", this connection\'s is "alice"); the connection keeps its current token until it expires',
      'token refresh refused (malformed (not a signed JWT)); the connection keeps its current token until it expires',
    ])
    expect((c.msgs('chat')[0] as { from?: string }).from).toBe('alice')
  })
})

describe('the SDK with a token', () => {
  const clients: LifelineClient[] = []
  const client = (url: string, tokenFn: () => string | Promise<string>) => {
    const c = createClient({ url, WebSocket, token: tokenFn, backoff: { minMs: 20, maxMs: 100 } })
    clients.push(c)
    return c
  }
  const closeAll = () => Promise.all(clients.splice(0).map((c) => c.close()))

  it('refreshes the token before it expires, on the open connection: one connection through four 2-second tokens', async () => {
    const node = await nodes.start()
    let calls = 0
    const c = client(node.url, () => (calls++, token('alice', {}, 2)))
    const states: string[] = []
    c.on('state', (s) => states.push(s.to))
    const seen: Message[] = []
    c.on('message', (m) => seen.push(m))
    await c.subscribe('chat')
    const started = Date.now()
    await waitFor(() => calls >= 4, 'four tokens (the first and three refreshes)', 15_000)
    // Longer than any single token lived: without the refreshes the node would have closed with 4440.
    await waitFor(() => Date.now() - started > 2_500, 'past the first token\'s exp', 5_000)
    await c.publish('chat', 'after the refreshes')
    await waitFor(() => seen.length === 1, 'the message')
    expect(seen[0]).toMatchObject({ data: 'after the refreshes', from: 'alice' })
    expect(states).toEqual(['open'])
    expect(node.connections).toBe(1)
    console.log(`token refresh: ${calls} tokens over ${Date.now() - started} ms, ${states.length} connection(s)`)
    await closeAll()
  })

  it('rejects a subscribe and a publish outside the token\'s topics with FORBIDDEN; the client stays open and goes on', async () => {
    const node = await nodes.start()
    const c = client(node.url, () => token('alice', { topics: { subscribe: ['room:*'], publish: ['room:*'] } }))
    const states: string[] = []
    c.on('state', (s) => states.push(s.to))
    await c.subscribe('room:1')
    expect(await c.subscribe('admin').catch((e: LifelineError) => e.code)).toBe(ErrorCode.FORBIDDEN)
    expect(await c.publish('admin', 'x').catch((e: LifelineError) => e.code)).toBe(ErrorCode.FORBIDDEN)
    expect(await c.presence('admin').catch((e: LifelineError) => e.code)).toBe(ErrorCode.FORBIDDEN)
    await c.publish('room:1', 'fine')
    expect(states).toEqual(['open'])
    await closeAll()
  })

  it('after TOKEN_EXPIRED (a refresh that never came) it gets a new token and resumes the same session, losing nothing', async () => {
    const node = await nodes.start()
    let calls = 0
    // 1: a short token; 2: the refresh hangs (a backend that is down); 3+: a good one.
    const c = client(node.url, () => (++calls === 2 ? new Promise<string>(() => {}) : token('alice', {}, calls === 1 ? 2 : 3600)))
    const codes: string[] = []
    c.on('error', (e: LifelineError) => codes.push(e.code))
    const seen: number[] = []
    c.on('message', (m) => seen.push(m.data as number))
    await c.subscribe('feed')
    const session = c.sessionId
    const pub = await nodes.connect(node)
    await helloWithToken(pub, await token('publisher'))
    let n = 0
    const publishing = setInterval(() => pub.send({ t: 'pub', seq: ++n, topic: 'feed', data: n }), 20)
    try {
      await waitFor(() => codes.includes(ErrorCode.TOKEN_EXPIRED), 'the node to close with TOKEN_EXPIRED', 10_000)
      await waitFor(() => c.state === 'open' && calls >= 3, 'the resume with a new token', 10_000)
    } finally {
      clearInterval(publishing)
    }
    await pub.next(isAck(n))
    await waitFor(() => seen.length === n, `all ${n} messages`)
    expect(c.sessionId).toBe(session)
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => i + 1))
    console.log(`token expiry: closed with TOKEN_EXPIRED, resumed session ${session} with token #${calls}; ${n}/${n} messages once, in order`)
    await closeAll()
  })
})
