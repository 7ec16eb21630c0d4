/**
 * Webhooks for a backend that is not Node, against a real HTTP server standing in for it: the connect webhook
 * (2xx lets in, 401/403 refuses with its message, 5xx or a timeout refuses retryably), and the send webhook,
 * where exactly-once reaches the backend: a 500 once → applied once, 4xx → HANDLER_FAILED, unreachable →
 * retried (same Idempotency-Key) until it answers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createClient, type LifelineClient, type LifelineError, type Message } from '@lifeline/sdk'
import { CloseCode, ErrorCode } from '@lifeline/protocol'
import { freePort } from './support/redis-server.js'
import { useNodes } from './support/nodes.js'
import { helloWithToken, JWT_SECRET, userToken } from './support/tokens.js'
import { waitFor } from './support/wait.js'

type Seen = { url: string; key: string | undefined; body: any }
type Answer = (seen: Seen, n: number) => { status: number; body?: unknown } | 'hang'

const servers: Server[] = []
const clients: LifelineClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  for (const s of servers.splice(0)) s.closeAllConnections(), s.close()
})

/** A backend: records every request, answers as `answer` says. */
async function backend(answer: Answer, port = 0): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = ''
    req.on('data', (c: Buffer) => (text += c))
    req.on('end', () => {
      const s: Seen = { url: req.url ?? '', key: req.headers['idempotency-key'] as string | undefined, body: JSON.parse(text) }
      seen.push(s)
      const a = answer(s, seen.length)
      if (a === 'hang') return
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body === undefined ? '' : JSON.stringify(a.body))
    })
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

const nodes = useNodes({ auth: { jwt: { secret: JWT_SECRET } } })
const sdk = (url: string, user = 'alice') => {
  const c = createClient({ url, WebSocket, token: () => userToken(user), backoff: { minMs: 20, maxMs: 100 } })
  clients.push(c)
  return c
}

describe('connect webhook', () => {
  it('2xx lets the connection in, told the session, user, claims, resumed and node', async () => {
    const hook = await backend(() => ({ status: 204 }))
    const node = await nodes.start({ id: 'hooked', webhooks: { connect: `${hook.url}/connect` } })
    const c = await nodes.connect(node)
    const jwt = await userToken('alice', { plan: 'pro' })
    const welcome = await helloWithToken(c, jwt)
    expect(hook.seen).toHaveLength(1)
    expect(hook.seen[0]).toMatchObject({ url: '/connect', body: { session: welcome.session.id, user: 'alice', claims: { sub: 'alice', plan: 'pro' }, resumed: false, node: 'hooked' } })
    // A resume is told as one.
    const again = await nodes.connect(node)
    again.send({ t: 'hello', v: 1, instance: 'i2', attempt: 1, subs: {}, token: jwt, resume: { token: welcome.session.token, lastSeq: 0 } })
    await again.next((f) => f.t === 'welcome')
    expect(hook.seen[1]?.body).toMatchObject({ session: welcome.session.id, resumed: true })
  })

  it('401/403 refuses with the backend\'s message (4401); 5xx or a timeout refuses retryably (4502)', async () => {
    const hook = await backend((s) =>
      s.body.user === 'banned' ? { status: 403, body: { error: { message: 'banned until Monday' } } } : s.body.user === 'slow' ? 'hang' : { status: 503, body: 'maintenance' },
    )
    const node = await nodes.start({ webhooks: { connect: hook.url, timeoutMs: 300 } })
    const closes: Record<string, { code: number; reason: string }> = {}
    for (const user of ['banned', 'flaky', 'slow']) {
      const c = await nodes.connect(node)
      c.send({ t: 'hello', v: 1, subs: {}, token: await userToken(user) })
      closes[user] = await c.closed
    }
    expect(closes).toEqual({
      banned: { code: CloseCode.UNAUTHORIZED, reason: 'banned until Monday' },
      flaky: { code: CloseCode.BACKEND_UNAVAILABLE, reason: 'the connect webhook answered 503: maintenance' },
      slow: { code: CloseCode.BACKEND_UNAVAILABLE, reason: 'the connect webhook did not answer (no answer within 300 ms)' },
    })
  })
})

describe('send webhook', () => {
  it('a backend that answers 500 once: the send is retried with the same Idempotency-Key and applied once', async () => {
    const hook = await backend((s, n) => (n === 1 ? { status: 500, body: { error: { message: 'db hiccup' } } } : { status: 200, body: { reply: { ok: s.body.seq }, publish: [{ topic: 'chat', data: { said: s.body.data, by: s.body.user } }] } }))
    const node = await nodes.start({ webhooks: { send: hook.url } })
    const c = sdk(node.url)
    const seen: Message[] = []
    c.on('message', (m) => seen.push(m))
    const errors: string[] = []
    c.on('error', (e: LifelineError) => errors.push(e.code))
    await c.subscribe('chat')
    await c.send('hello')
    await waitFor(() => seen.length === 2, 'the reply and the publish')
    expect(hook.seen.map((s) => [s.key, s.body])).toEqual([
      [`${c.sessionId}:1`, { session: c.sessionId, user: 'alice', seq: 1, data: 'hello' }],
      [`${c.sessionId}:1`, { session: c.sessionId, user: 'alice', seq: 1, data: 'hello' }],
    ])
    expect(errors).toContain(ErrorCode.BACKEND_UNAVAILABLE)
    await c.publish('chat', 'marker')
    await waitFor(() => seen.length === 3, 'the marker')
    // Applied once: one reply in the inbox, one message in chat (stamped with the sender), then the marker.
    const of = (topic: string) => seen.filter((m) => m.topic === topic).map((m) => [m.data, m.from])
    expect(of('@inbox')).toEqual([[{ ok: 1 }, 'alice']])
    expect(of('chat')).toEqual([[{ said: 'hello', by: 'alice' }, 'alice'], ['marker', 'alice']])
    console.log(`send webhook 500 once: ${hook.seen.length} POSTs with one Idempotency-Key, applied once`)
  })

  it('4xx refuses that send for good (HANDLER_FAILED, with the backend\'s message); later sends go on', async () => {
    const hook = await backend((s) => (s.body.data === 'bad' ? { status: 422, body: { message: 'text too rude' } } : { status: 200 }))
    const node = await nodes.start({ webhooks: { send: hook.url } })
    const c = sdk(node.url)
    const refused = await c.send('bad').catch((e: LifelineError) => e)
    expect(refused).toMatchObject({ code: ErrorCode.HANDLER_FAILED })
    expect((refused as LifelineError).message).toMatch(/text too rude/)
    await c.send('good')
    expect(hook.seen.map((s) => [s.body.seq, s.body.data])).toEqual([[1, 'bad'], [2, 'good']])
  })

  it('an unreachable backend: nothing is acknowledged, the client resends, and once the backend is up it applies once', async () => {
    const port = await freePort()
    const node = await nodes.start({ webhooks: { send: `http://127.0.0.1:${port}/send` } })
    const c = sdk(node.url)
    const errors: string[] = []
    c.on('error', (e: LifelineError) => errors.push(e.code))
    await c.subscribe('@inbox')
    const seen: unknown[] = []
    c.on('message', (m) => seen.push(m.data))
    const sent = c.send({ order: 42 })
    await waitFor(() => errors.filter((e) => e === ErrorCode.BACKEND_UNAVAILABLE).length >= 2, 'two refused attempts')
    expect(c.pending).toBe(1)
    const hook = await backend((s) => ({ status: 200, body: { reply: { accepted: s.body.data } } }), port)
    await sent
    await waitFor(() => seen.length === 1, 'the reply')
    expect(seen).toEqual([{ accepted: { order: 42 } }])
    expect(hook.seen.map((s) => s.key)).toEqual([`${c.sessionId}:1`])
    console.log(`send webhook unreachable: ${errors.filter((e) => e === ErrorCode.BACKEND_UNAVAILABLE).length} refused attempts, then applied once`)
  })
})
