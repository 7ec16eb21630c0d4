/**
 * The node's connection core with auth, on a fake clock, no sockets: the token is verified by the adapter
 * (a `verify` effect, a `verified` input) before any store call; exp closes the connection (4440) at the tick
 * that passes it, and no frame after exp acts; the authorize step comes after the claim and is told the
 * session; presence is told to the store on hello, sub and unsub, and never on a socket close (a failover
 * must not end it); every apply carries the session's user as `from`.
 */
import { describe, expect, it } from 'vitest'
import { CloseCode, ErrorCode } from '@lifeline/protocol'
import type { Identity } from '../src/node/core/identity.js'
import type { Effect } from '../src/node/core/types.js'
import { closingHarnesses, type Harness } from './support/core-harness.js'

const harness = closingHarnesses()
const identity = (user: string, extra: Partial<Identity> = {}): Identity => ({ user, claims: { sub: user }, ...extra })
const storeCalls = (h: Harness, method: string) => h.effects.flatMap((e) => (e.type === 'store' && e.call.method === method ? [e.call.args] : []))

/** hello with a token; the verify answered with `who`; every store call answered. */
async function openAs(h: Harness, who: Identity, subs: Record<string, null> = { '@inbox': null }, presence?: string[]): Promise<void> {
  h.frame({ t: 'hello', v: 1, instance: 'i1', attempt: 1, subs, token: 'a.b.c', ...(presence ? { presence } : {}) })
  expect(h.effects.filter((e) => e.type === 'verify')).toHaveLength(1)
  expect(h.pending).toBe(0) // nothing asked of the store before the token is verified
  h.step({ type: 'verified', result: { ok: true, identity: who } })
  await h.answer()
}

describe('connection core: the token', () => {
  it('verifies before the store, refuses a missing or bad token with 4401, and closes 4440 at exp', async () => {
    const bare = harness({ auth: true, timeoutMs: 60_000 })
    bare.frame({ t: 'hello', v: 1, subs: {} })
    expect(bare.closes()).toEqual([{ code: CloseCode.UNAUTHORIZED, reason: 'token missing: this server requires a JWT in hello.token' }])
    const bad = harness({ auth: true, timeoutMs: 60_000 })
    bad.frame({ t: 'hello', v: 1, subs: {}, token: 'x.y.z' })
    bad.step({ type: 'verified', result: { ok: false, reason: 'bad signature' } })
    expect(bad.closes()).toEqual([{ code: CloseCode.UNAUTHORIZED, reason: 'token refused: bad signature' }])
    expect(bad.pending).toBe(0)

    const h = harness({ auth: true, timeoutMs: 60_000 })
    const exp = Math.floor(h.clock.t / 1000) + 10
    await openAs(h, identity('alice', { exp }))
    h.clock.t = exp * 1000 - 1
    h.step({ type: 'tick' })
    expect(h.closes()).toEqual([])
    h.clock.t = exp * 1000
    h.step({ type: 'tick' })
    expect(h.closes()).toEqual([{ code: CloseCode.TOKEN_EXPIRED, reason: 'your token expired; get a new one and reconnect (the session resumes)' }])
    expect(h.sent().filter((f) => f.t === 'error').map((f) => (f as { code: string }).code)).toEqual([ErrorCode.TOKEN_EXPIRED])
  })

  it('no frame after exp acts, even before the tick; a refresh (same user) moves exp on', async () => {
    const h = harness({ auth: true, timeoutMs: 60_000 })
    const exp = Math.floor(h.clock.t / 1000) + 10
    await openAs(h, identity('alice', { exp }))
    h.frame({ t: 'auth', token: 'fresh' })
    h.step({ type: 'verified', result: { ok: true, identity: identity('alice', { exp: exp + 60 }) } })
    h.clock.t = exp * 1000 + 5
    h.step({ type: 'tick' })
    expect(h.closes()).toEqual([])
    const late = harness({ auth: true, timeoutMs: 60_000 })
    await openAs(late, identity('bob', { exp }))
    late.clock.t = exp * 1000 + 5
    late.frame({ t: 'pub', seq: 1, topic: 't', data: 'too late' })
    expect(late.closes().map((c) => c.code)).toEqual([CloseCode.TOKEN_EXPIRED])
    expect(storeCalls(late, 'apply')).toEqual([])
  })
})

describe('connection core: authorize, from and presence', () => {
  it('asks authorize after the claim, told the session, whether it resumed, the user and the claims', async () => {
    const h = harness({ auth: true, authorize: true })
    h.frame({ t: 'hello', v: 1, instance: 'i1', attempt: 1, subs: {}, token: 'a.b.c' })
    h.step({ type: 'verified', result: { ok: true, identity: identity('alice') } })
    await h.answer()
    const ask = h.effects.find((e): e is Extract<Effect, { type: 'authorize' }> => e.type === 'authorize')!
    expect(ask).toMatchObject({ resumed: false, user: 'alice', claims: { sub: 'alice' } })
    expect(storeCalls(h, 'createSession').map((a) => a[0])).toEqual([ask.session])
    h.step({ type: 'authorized', refusal: 'not today', retry: true })
    expect(h.closes()).toEqual([{ code: CloseCode.BACKEND_UNAVAILABLE, reason: 'not today' }])
  })

  it('stamps the user on every apply, refuses what the topics claim does not allow, and tells the store presence on hello, sub and unsub only', async () => {
    const h = harness({ auth: true, timeoutMs: 60_000 })
    await openAs(h, identity('alice', { topics: { subscribe: ['room:*'], publish: ['room:*'] } }), { '@inbox': null, 'room:1': null, secret: null }, ['room:1'])
    h.frame({ t: 'sub', topic: 'room:2', presence: true })
    h.frame({ t: 'sub', topic: 'other' })
    h.frame({ t: 'unsub', topic: 'room:1' })
    h.frame({ t: 'pub', seq: 1, topic: 'room:2', data: 'hi' })
    h.frame({ t: 'pub', seq: 2, topic: 'other', data: 'no' })
    await h.answer()
    // Only the topics it got (not `secret`, not `other`), never @inbox, each change once, under the user.
    expect(storeCalls(h, 'updatePresence').map(([, user, topics, mode]) => [user, topics, mode])).toEqual([
      ['alice', ['room:1'], 'set'],
      ['alice', ['room:2'], 'add'],
      ['alice', ['room:1'], 'remove'],
    ])
    expect(storeCalls(h, 'apply').map(([op]) => [(op as { seq: number }).seq, (op as { from?: string }).from, (op as { appends: unknown[] }).appends.length])).toEqual([[1, 'alice', 1], [2, 'alice', 0]])
    const refused = h.sent().flatMap((f) => (f.t === 'error' ? [[f.code, f.topic, f.seq]] : []))
    expect(refused).toEqual([[ErrorCode.FORBIDDEN, 'secret', undefined], [ErrorCode.FORBIDDEN, 'other', undefined], [ErrorCode.FORBIDDEN, 'other', 2]])
    // Presence events are listened to for room:1 (hello) and room:2 (sub), and room:1's stops with its unsub.
    const listens = h.effects.flatMap((e) => (e.type === 'listen' || e.type === 'unlisten') && e.topic.startsWith('@presence:') ? [`${e.type} ${e.topic}`] : [])
    expect(listens).toEqual(['listen @presence:room:1', 'listen @presence:room:2', 'unlisten @presence:room:1'])
    const before = storeCalls(h, 'updatePresence').length
    h.step({ type: 'socket-closed' })
    expect(storeCalls(h, 'updatePresence').length).toBe(before)
  })
})
