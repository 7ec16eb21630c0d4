/**
 * The session core's history side, on a fake clock with no socket: where a subscription starts (`from`),
 * `history()` queries (asked, answered, re-asked after a reconnect, checked), and `signal` aborts.
 */
import { describe, expect, it } from 'vitest'
import { ErrorCode } from '@lifeline/protocol'
import * as z from 'zod/mini'
import { emitted, harness, msg, settled, writes } from './support/core-harness.js'
import type { Effect } from '../src/core.js'

const sub = (topic: string, from?: unknown, epoch?: unknown) => ({ type: 'subscribe' as const, topic, from, epoch })
const history = (topic: string, ticket: unknown, from?: unknown, limit?: unknown) => ({ type: 'history' as const, topic, from, limit, ticket })
const subscribedEffects = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'subscribed' ? [{ topic: e.topic, code: e.error?.code }] : []))
const values = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'settle' && !e.error ? [e.value] : []))
const helloOf = (effects: Effect[]) => writes(effects).find((f) => f.t === 'hello')
const reconnect = (h: ReturnType<typeof harness>) => h.step({ type: 'socket-close', code: 1006, reason: '' }, { type: 'timer', name: 'retry' }, { type: 'socket-open' })

describe('subscribe(topic, { from })', () => {
  it("'earliest' is asked in hello until the server places it; the replay after `subscribed.after` is delivered once, in order", () => {
    const h = harness()
    h.step({ type: 'start' }, sub('log', 'earliest'))
    expect(helloOf(h.step({ type: 'socket-open' }))).toMatchObject({ subs: { log: 'earliest', '@inbox': null } })
    h.open()
    // The connection drops before `subscribed`: the next hello asks for 'earliest' again, not "live from now".
    expect(helloOf(reconnect(h))).toMatchObject({ subs: { log: 'earliest' } })
    h.open({ resumed: true })
    const placed = h.frame({ t: 'subscribed', topic: 'log', offset: 5, epoch: 'e1', recovered: true, after: 2 })
    expect(subscribedEffects(placed)).toEqual([{ topic: 'log', code: undefined }])
    expect(emitted(placed, 'gap')).toEqual([])
    const delivered = [3, 4, 3, 5, 6].flatMap((n) => emitted(h.frame(msg('log', n)), 'message').map((m) => m.offset))
    expect(delivered).toEqual([3, 4, 5, 6])
    // Placed: from now on the hello resumes from the position, as any subscription.
    expect(helloOf(reconnect(h))).toMatchObject({ subs: { log: { offset: 6, epoch: 'e1' } } })
  })

  it('an offset without an epoch is sent as the last one before it; a retention gap before it is reported, then delivery goes on', () => {
    const h = harness()
    h.open()
    expect(writes(h.step(sub('feed', 3)))).toEqual([{ t: 'sub', topic: 'feed', from: { offset: 2 } }])
    const placed = h.frame({ t: 'subscribed', topic: 'feed', offset: 9, epoch: 'e1', recovered: false, gap: { reason: 'retention', from: 3, to: 6 }, after: 6 })
    expect(emitted(placed, 'gap')).toEqual([{ topic: 'feed', reason: 'retention', from: 3, to: 6, epoch: 'e1' }])
    expect(emitted(h.frame(msg('feed', 7)), 'message').map((m) => m.offset)).toEqual([7])
  })

  it('an offset with an epoch (from a message or history()) is a position: another log now is an epoch gap', () => {
    const h = harness()
    h.open()
    expect(writes(h.step(sub('feed', 10, 'e1')))).toEqual([{ t: 'sub', topic: 'feed', from: { offset: 9, epoch: 'e1' } }])
    const moved = h.frame({ t: 'subscribed', topic: 'feed', offset: 2, epoch: 'e2', recovered: false, gap: { reason: 'epoch', from: 1, to: 0 } })
    expect(emitted(moved, 'gap')).toEqual([{ topic: 'feed', reason: 'epoch', from: 1, to: 0, epoch: 'e2' }])
    expect(emitted(h.frame(msg('feed', 1, 'x', 'e2')), 'message').map((m) => m.offset)).toEqual([1])
  })

  it("'latest' (the default) resumes a position restored from persist; an explicit start replaces it", () => {
    const restored = { sessionId: 's1', token: 'tok1', positions: { a: { offset: 4, epoch: 'e1' }, b: { offset: 7, epoch: 'e1' } }, outbox: [], lastSeq: 0 }
    const h = harness({}, restored)
    h.step({ type: 'start' }, sub('a'), sub('b', 'earliest'))
    expect(helloOf(h.step({ type: 'socket-open' }))).toMatchObject({ subs: { a: { offset: 4, epoch: 'e1' }, b: 'earliest' } })
  })

  it('a subscription already asked for keeps its start; a bad `from` or `epoch` rejects at once (BAD_FRAME) and sends nothing', () => {
    const h = harness()
    h.open()
    expect(writes(h.step(sub('t', 'earliest'), sub('t', 5)))).toEqual([{ t: 'sub', topic: 't', from: 'earliest' }])
    for (const [from, epoch] of [[0], ['oldest'], [1.5], ['earliest', 'e1'], [undefined, 'e1'], [3, '']] as [unknown, unknown][]) {
      const e = h.step(sub('u', from, epoch))
      expect(subscribedEffects(e)).toEqual([{ topic: 'u', code: ErrorCode.BAD_FRAME }])
      expect(writes(e)).toEqual([])
    }
  })

  it('a second `subscribed` with `after` (the topic was unsubscribed and subscribed again) never steps back over delivered offsets', () => {
    const h = harness()
    h.open()
    h.step(sub('t', 'earliest'))
    h.frame({ t: 'subscribed', topic: 't', offset: 3, epoch: 'e1', recovered: true, after: 0 })
    expect([1, 2, 3].flatMap((n) => emitted(h.frame(msg('t', n)), 'message'))).toHaveLength(3)
    h.frame({ t: 'subscribed', topic: 't', offset: 3, epoch: 'e1', recovered: true, after: 0 })
    expect([1, 2, 3, 4].flatMap((n) => emitted(h.frame(msg('t', n)), 'message').map((m) => m.offset))).toEqual([4])
  })
})

describe('history(topic, { from, limit })', () => {
  const answer = { epoch: 'e1', last: 12, messages: [{ offset: 11, data: 'a' }, { offset: 12, data: 'b' }] }

  it('asks with a query frame (ids from 1 per connection) and resolves with the checked answer', () => {
    const h = harness()
    h.step({ type: 'start' }, history('room', 'q1', undefined, 2))
    const hello = h.step({ type: 'socket-open' })
    expect(writes(hello).filter((f) => f.t === 'query')).toEqual([]) // only after the welcome
    expect(writes(h.open()).filter((f) => f.t === 'query')).toEqual([{ t: 'query', kind: 'history', topic: 'room', limit: 2, id: 1 }])
    expect(writes(h.step(history('room', 'q2', 'earliest')))).toEqual([{ t: 'query', kind: 'history', topic: 'room', from: 'earliest', id: 2 }])
    expect(values(h.frame({ t: 'result', id: 2, value: { ...answer, gap: { reason: 'retention', from: 1, to: 10 } } }))).toEqual([
      { ...answer, gap: { reason: 'retention', from: 1, to: 10 } },
    ])
    expect(values(h.frame({ t: 'result', id: 1, value: answer }))).toEqual([answer])
    expect(values(h.frame({ t: 'result', id: 1, value: answer }))).toEqual([]) // answered already: ignored
  })

  it('a question unanswered when the connection ends is asked again on the next one, with a new id; a late answer to the old id settles nothing twice', () => {
    const h = harness()
    h.open()
    h.step(history('a', 'qa'), history('b', 'qb'))
    h.frame({ t: 'result', id: 1, value: answer })
    const again = writes(reconnect(h).concat(h.open({ resumed: true })))
    expect(again.filter((f) => f.t === 'query')).toEqual([{ t: 'query', kind: 'history', topic: 'b', id: 1 }])
    expect(settled(h.frame({ t: 'result', id: 1, value: answer }))).toEqual([{ ticket: 'qb' }])
  })

  it('message data goes through `schema`: data that fails it is skipped and reported (INVALID_DATA)', () => {
    const h = harness({ schema: z.string() })
    h.open()
    h.step(history('room', 'q'))
    const e = h.frame({ t: 'result', id: 1, value: { epoch: 'e1', last: 3, messages: [{ offset: 2, data: 'ok' }, { offset: 3, data: 42 }] } })
    expect(values(e)).toEqual([{ epoch: 'e1', last: 3, messages: [{ offset: 2, data: 'ok' }] }])
    expect(emitted(e, 'error').map((x) => [x.code, x.topic])).toEqual([[ErrorCode.INVALID_DATA, 'room']])
  })

  it('a malformed answer rejects BAD_SERVER_FRAME; a refusal rejects with its code and is an error event, and never fails a subscribe of that topic', () => {
    const h = harness()
    h.open()
    h.step(history('room', 'q1'), history('room', 'q2'), sub('room'))
    for (const value of [null, { epoch: 'e1', last: 1, messages: [{ offset: 0, data: 1 }] }, { epoch: 1, last: 1, messages: [] }]) {
      h.step(history('room', 'qx'))
      const id = (writes(h.take()).filter((f) => f.t === 'query').pop() as { id: number }).id
      expect(settled(h.frame({ t: 'result', id, value }))).toEqual([{ ticket: 'qx', code: ErrorCode.BAD_SERVER_FRAME }])
    }
    const refused = h.frame({ t: 'error', code: ErrorCode.STORE_UNAVAILABLE, message: 'ask again', id: 1, topic: 'room' })
    expect(settled(refused)).toEqual([{ ticket: 'q1', code: ErrorCode.STORE_UNAVAILABLE }])
    expect(emitted(refused, 'error').map((x) => x.code)).toEqual([ErrorCode.STORE_UNAVAILABLE])
    expect(subscribedEffects(refused)).toEqual([]) // the pending subscribe of 'room' is untouched
    expect(subscribedEffects(h.frame({ t: 'subscribed', topic: 'room', offset: 0, epoch: 'e1', recovered: true }))).toEqual([{ topic: 'room', code: undefined }])
  })

  it('bad options reject at once and send nothing (a query the server cannot decode would close the connection)', () => {
    const h = harness()
    h.open()
    for (const [topic, from, limit] of [['has space'], ['@other'], ['t', 0], ['t', 'latest'], ['t', undefined, 0], ['t', undefined, 2.5]] as [string, unknown, unknown][]) {
      const e = h.step(history(topic, 'q', from, limit))
      expect(settled(e)).toEqual([{ ticket: 'q', code: topic === '@other' ? ErrorCode.RESERVED_TOPIC : ErrorCode.BAD_FRAME }])
      expect(writes(e)).toEqual([])
    }
  })

  it('close() rejects unanswered questions with CLIENT_CLOSED, and later ones at once', () => {
    const h = harness()
    h.open()
    h.step(history('t', 'q1'))
    expect(settled(h.step({ type: 'close' }))).toEqual([{ ticket: 'q1', code: ErrorCode.CLIENT_CLOSED }])
    expect(settled(h.step(history('t', 'q2')))).toEqual([{ ticket: 'q2', code: ErrorCode.CLIENT_CLOSED }])
  })
})

describe('signal: abort', () => {
  const pub = (data: unknown, ticket: unknown) => ({ type: 'publish' as const, topic: 't', data, ticket })

  it('a publish aborted before it was written leaves the outbox (persisted) and rejects ABORTED; it is never sent', () => {
    const h = harness()
    h.step({ type: 'start' }, pub('keep', 'a'), pub('drop', 'b'))
    const e = h.step({ type: 'abort', ticket: 'b' })
    expect(settled(e)).toEqual([{ ticket: 'b', code: ErrorCode.ABORTED }])
    expect(e).toContainEqual({ type: 'persist', part: 'outbox' })
    expect(writes(h.open()).filter((f) => f.t === 'pub')).toEqual([{ t: 'pub', seq: 1, topic: 't', data: 'keep' }])
  })

  it('one already written is not taken back: it stays in the outbox, is resent after a reconnect, and resolves when applied', () => {
    const h = harness()
    h.open()
    h.step(pub('sent', 'a'))
    expect(settled(h.step({ type: 'abort', ticket: 'a' }))).toEqual([])
    const resent = writes(reconnect(h).concat(h.open({ resumed: true, acked: 0 })))
    expect(resent.filter((f) => f.t === 'pub')).toEqual([{ t: 'pub', seq: 1, topic: 't', data: 'sent' }])
    expect(settled(h.frame({ t: 'ack', seq: 1 }))).toEqual([{ ticket: 'a' }])
  })

  it('a history() aborted before its answer rejects ABORTED, is not asked again, and its late answer is ignored', () => {
    const h = harness()
    h.open()
    h.step(history('t', 'q'))
    expect(settled(h.step({ type: 'abort', ticket: 'q' }))).toEqual([{ ticket: 'q', code: ErrorCode.ABORTED }])
    expect(settled(h.frame({ t: 'result', id: 1, value: { epoch: 'e', last: 0, messages: [] } }))).toEqual([])
    expect(writes(reconnect(h).concat(h.open({ resumed: true }))).filter((f) => f.t === 'query')).toEqual([])
  })
})
