/**
 * The session core's side of an app's backend, on a fake clock: the user's token (in the hello, never the
 * URL; fetched at each connect; refreshed before its exp on the open connection), `from` on messages, and
 * presence (the hello and sub flags, `presence` events, the `presence` query). Tokens are signed with jose
 * (the core only reads their `exp`).
 */
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { refreshIn } from '../src/auth.js'
import { emitted, harness, msg, settled, writes } from './support/core-harness.js'

const key = new TextEncoder().encode('sdk-test-secret-sdk-test-secret!')
const jwt = (sub: string, expSeconds: number) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime(expSeconds).sign(key)

const fetches = (effects: { type: string }[]) => effects.filter((e) => e.type === 'fetch-token').length
const welcome = { t: 'welcome', session: { id: 's1', token: 'tok1' }, resumed: false, node: 'n1', acked: 0, heartbeatMs: 2000, timeoutMs: 5000 }

describe('core: the user token', () => {
  it('asks for a token at every connect and puts it in the hello, never in the URL; the hello waits for it', async () => {
    const h = harness({ token: () => 'unused' })
    const t1 = await jwt('alice', Math.floor(h.clock.t / 1000) + 3600)
    const start = h.step({ type: 'start' })
    expect(fetches(start)).toBe(1)
    const url = start.find((e) => e.type === 'connect')
    expect(url).toMatchObject({ url: 'ws://lifeline.test/ws' })
    // The socket opens before the token came: no hello yet.
    expect(writes(h.step({ type: 'socket-open' }))).toEqual([])
    const hello = writes(h.step({ type: 'token', token: t1 }))
    expect(hello).toHaveLength(1)
    expect(hello[0]).toMatchObject({ t: 'hello', token: t1 })
    h.frame(welcome)
    // Lost, then the next connect asks again.
    h.take()
    h.step({ type: 'socket-close', code: 1006, reason: '' })
    const again = h.step({ type: 'timer', name: 'retry' })
    expect(fetches(again)).toBe(1)
    expect(again.find((e) => e.type === 'connect')).toMatchObject({ url: 'ws://lifeline.test/ws?sid=s1' })
    expect(JSON.stringify(again)).not.toContain(t1)
  })

  it('refreshes before exp on the open connection (an auth frame, no reconnect), and again before the new exp', async () => {
    const h = harness({ token: () => 'unused' })
    const now = () => Math.floor(h.clock.t / 1000)
    const t1 = await jwt('alice', now() + 8)
    h.step({ type: 'start' }, { type: 'token', token: t1 }, { type: 'socket-open' })
    const opened = h.frame(welcome)
    // 8 s left: refreshed 2 s early (a quarter of what is left, at most 30 s).
    expect(opened.filter((e) => e.type === 'timer' && e.name === 'token').map((e) => (e as { ms: number | null }).ms)).toEqual([6_000])
    h.clock.t += 6_000
    expect(fetches(h.step({ type: 'timer', name: 'token' }))).toBe(1)
    const t2 = await jwt('alice', now() + 3600)
    const out = h.step({ type: 'token', token: t2 })
    expect(writes(out)).toEqual([{ t: 'auth', token: t2 }])
    expect(out.some((e) => e.type === 'connect' || e.type === 'disconnect')).toBe(false)
    expect(out.filter((e) => e.type === 'timer' && e.name === 'token').map((e) => (e as { ms: number }).ms)).toEqual([3_600_000 - 30_000])
  })

  it('a static token is never refreshed; a token the option cannot give fails the attempt (CONNECT_FAILED with the cause)', async () => {
    const s = harness({ token: await jwt('alice', Math.floor(Date.now() / 1000) + 60) })
    s.step({ type: 'start' }, { type: 'token', token: 'x.y.z' }, { type: 'socket-open' })
    expect(s.frame(welcome).filter((e) => e.type === 'timer' && e.name === 'token').map((e) => (e as { ms: unknown }).ms)).toEqual([null])

    const f = harness({ token: () => Promise.reject(new Error('backend down')) })
    f.step({ type: 'start' }, { type: 'socket-open' })
    const failed = f.step({ type: 'token', error: 'Error: backend down' })
    expect(failed.some((e) => e.type === 'disconnect')).toBe(true)
    expect(emitted(failed, 'error').map((e) => [e.code, e.cause])).toEqual([['CONNECT_FAILED', 'token: Error: backend down']])
  })

  it('reads exp without verifying: null for a token without one', async () => {
    expect(refreshIn(await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).sign(key), 0)).toBeNull()
    expect(refreshIn('not a jwt', 0)).toBeNull()
    expect(refreshIn(await jwt('a', 100), 0)).toBe(100_000 - 25_000)
  })
})

describe('core: from and presence', () => {
  it('gives the message event the server-stamped from, and none when the server sent none', () => {
    const h = harness()
    h.open()
    h.step({ type: 'subscribe', topic: 'room' })
    h.frame({ t: 'subscribed', topic: 'room', offset: 0, epoch: 'e1', recovered: true })
    const out = [...h.frame({ ...msg('room', 1), from: 'alice' }), ...h.frame(msg('room', 2))]
    expect(emitted(out, 'message').map((m) => [m.offset, m.from])).toEqual([[1, 'alice'], [2, undefined]])
    expect('from' in emitted(out, 'message')[1]!).toBe(false)
  })

  it('asks for presence events in sub and in every hello, raises them only for those topics, and answers presence()', () => {
    const h = harness()
    h.open()
    const sub = writes(h.step({ type: 'subscribe', topic: 'room', presence: true }, { type: 'subscribe', topic: 'quiet' }))
    expect(sub).toEqual([{ t: 'sub', topic: 'room', presence: true }, { t: 'sub', topic: 'quiet' }])
    const events = [...h.frame({ t: 'presence', topic: 'room', user: 'bob', joined: true }), ...h.frame({ t: 'presence', topic: 'quiet', user: 'bob', joined: true })]
    expect(emitted(events, 'presence')).toEqual([{ topic: 'room', user: 'bob', joined: true }])
    // Asking for presence on a topic already subscribed without it tells the server again.
    expect(writes(h.step({ type: 'subscribe', topic: 'quiet', presence: true }))).toEqual([{ t: 'sub', topic: 'quiet', presence: true }])
    h.step({ type: 'socket-close', code: 1006, reason: '' }, { type: 'timer', name: 'retry' })
    const hello = writes(h.step({ type: 'socket-open' }))[0] as { presence?: string[] }
    expect(hello.presence?.sort()).toEqual(['quiet', 'room'])
    h.frame(welcome)
    h.step({ type: 'unsubscribe', topic: 'room' })
    expect(emitted(h.frame({ t: 'presence', topic: 'room', user: 'bob', joined: false }), 'presence')).toEqual([])

    const ticket = {}
    const asked = writes(h.step({ type: 'query', kind: 'presence', fields: { topic: 'quiet' }, ticket }))
    expect(asked).toEqual([{ topic: 'quiet', t: 'query', kind: 'presence', id: 1 }])
    const value = { topic: 'quiet', users: [{ user: 'bob', sessions: 2 }] }
    const answer = h.frame({ t: 'result', id: 1, value })
    expect(settled(answer)).toEqual([{ ticket }])
    expect(answer.find((e) => e.type === 'settle')).toMatchObject({ value })
  })
})
