/**
 * The node's connection core on a fake clock, no sockets: heartbeat and liveness, drain, session touch, the
 * frame queue's order, and the replay/live seam. Each test drives inputs and reads the effects as data.
 */
import { describe, expect, it } from 'vitest'
import { CloseCode, ErrorCode } from '@lifeline/protocol'
import { closingHarnesses, type Harness } from './support/core-harness.js'

const harness = closingHarnesses()
const acks = (h: Harness) => h.sent().flatMap((f) => (f.t === 'ack' ? [f.seq] : []))

describe('connection core: heartbeat and liveness', () => {
  it('pings every heartbeatMs once open, and closes 4408 after timeoutMs of silence', async () => {
    const h = harness({ heartbeatMs: 2_000, timeoutMs: 5_000 })
    h.clock.t += 3_000
    h.step({ type: 'tick' })
    expect(h.sent().filter((f) => f.t === 'ping')).toHaveLength(0) // no ping before the welcome
    await h.open()
    for (let i = 0; i < 4; i++) {
      h.clock.t += 1_000
      h.step({ type: 'tick' })
      h.frame({ t: 'pong' })
    }
    expect(h.sent().filter((f) => f.t === 'ping')).toHaveLength(2)
    h.clock.t += 5_001
    h.step({ type: 'tick' })
    expect(h.closes()).toEqual([{ code: CloseCode.HEARTBEAT_TIMEOUT, reason: expect.stringContaining('no frame for 5000 ms') }])
  })

  it('output draining from the socket counts as a sign of life (a reader working through a backlog)', async () => {
    const h = harness({ timeoutMs: 5_000 })
    await h.open()
    for (let buffered = 9_000_000; buffered > 0; buffered -= 1_000_000) {
      h.clock.t += 1_000
      h.buffered = buffered
      h.step({ type: 'tick' })
    }
    expect(h.closes()).toEqual([])
  })

  it('a frame read after the liveness ran out (it waited in a frozen process) is not handled', async () => {
    const h = harness({ timeoutMs: 5_000 })
    await h.open()
    h.clock.t += 6_000 // frozen, no tick ran
    h.frame({ t: 'pub', seq: 1, topic: 'x', data: 1 })
    expect(h.pending).toBe(0) // nothing asked of the store
    expect(h.closes()).toEqual([{ code: CloseCode.HEARTBEAT_TIMEOUT, reason: expect.stringContaining('not handled') }])
  })
})

describe('connection core: writes in order', () => {
  it('handles frames one after another: the second pub waits for the first apply; acks are cumulative and in order', async () => {
    const h = harness()
    await h.open()
    h.frame({ t: 'pub', seq: 1, topic: 't', data: 'a' })
    h.frame({ t: 'pub', seq: 2, topic: 't', data: 'b' })
    expect(h.pending).toBe(1)
    await h.answer(1)
    expect(acks(h)).toEqual([1])
    expect(h.pending).toBe(1)
    await h.answer()
    expect(acks(h)).toEqual([1, 2])
    h.frame({ t: 'pub', seq: 2, topic: 't', data: 'b' }) // a resend: acked at once, nothing applied
    expect(h.pending).toBe(0)
    expect(acks(h)).toEqual([1, 2, 2])
    expect((await h.store.head('t')).last).toBe(2)
  })

  it('pubs queued behind an apply go to the store as one batch, acked with one cumulative ack', async () => {
    const h = harness()
    await h.open()
    h.frame({ t: 'pub', seq: 1, topic: 't', data: 1 })
    for (let seq = 2; seq <= 5; seq++) h.frame({ t: 'pub', seq, topic: seq === 4 ? 'u' : 't', data: seq })
    expect(h.pending).toBe(1)
    await h.answer(1)
    expect(acks(h)).toEqual([1])
    expect(h.pending).toBe(1) // 2..5 in one apply
    await h.answer(1)
    expect(acks(h)).toEqual([1, 5])
    expect(h.pending).toBe(0)
    expect((await h.store.read('t', 1, 10)).map((m) => m.data)).toEqual([1, 2, 3, 5])
    expect((await h.store.read('u', 1, 10)).map((m) => m.data)).toEqual([4])
  })

  it('a batch stops before a refused pub, a send and a non-consecutive seq; each of those keeps its own answer', async () => {
    const h = harness()
    await h.open()
    h.frame({ t: 'pub', seq: 1, topic: 't', data: 1 })
    h.frame({ t: 'pub', seq: 2, topic: 't', data: 2 })
    h.frame({ t: 'pub', seq: 3, topic: '@inbox', data: 3 }) // reserved: refused, its seq consumed
    h.frame({ t: 'pub', seq: 4, topic: 't', data: 4 })
    h.frame({ t: 'pub', seq: 4, topic: 't', data: 4 }) // a resend of 4: not consecutive, acked on its own
    await h.answer()
    expect(acks(h)).toEqual([1, 2, 3, 4, 4])
    expect(h.sent().filter((f) => f.t === 'error')).toEqual([expect.objectContaining({ code: ErrorCode.RESERVED_TOPIC, seq: 3 })])
    expect((await h.store.read('t', 1, 10)).map((m) => m.data)).toEqual([1, 2, 4])
  })

  it('a store that fails an apply: STORE_UNAVAILABLE with the seq, close 4503, nothing acked', async () => {
    const h = harness()
    await h.open()
    h.frame({ t: 'pub', seq: 1, topic: 't', data: 'a' })
    h.fail()
    expect(h.sent().at(-1)).toMatchObject({ t: 'error', code: ErrorCode.STORE_UNAVAILABLE, seq: 1 })
    expect(h.closes()).toEqual([{ code: CloseCode.STORE_UNAVAILABLE, reason: expect.any(String) }])
    expect(acks(h)).toEqual([])
  })

  it('rate limits a flood with 4429', async () => {
    const h = harness({ rateLimit: { perSecond: 10, burst: 5 } })
    await h.open()
    for (let i = 0; i < 6; i++) h.frame({ t: 'ping' })
    expect(h.closes()).toEqual([{ code: CloseCode.RATE_LIMITED, reason: expect.any(String) }])
  })
})

describe('connection core: drain', () => {
  it('finishes what was received before the drain, ignores what comes after, then closes 1012', async () => {
    const h = harness()
    await h.open()
    h.frame({ t: 'pub', seq: 1, topic: 't', data: 'before' })
    h.step({ type: 'drain' })
    h.frame({ t: 'pub', seq: 2, topic: 't', data: 'after' })
    expect(h.closes()).toEqual([])
    await h.answer()
    expect(acks(h)).toEqual([1])
    expect(h.closes()).toEqual([{ code: CloseCode.SERVICE_RESTART, reason: expect.any(String) }])
    expect((await h.store.read('t', 1, 10)).map((m) => m.data)).toEqual(['before'])
  })

  it('a connection with nothing in flight closes 1012 at once', async () => {
    const h = harness()
    await h.open()
    h.step({ type: 'drain' })
    expect(h.closes()).toEqual([{ code: CloseCode.SERVICE_RESTART, reason: expect.any(String) }])
  })
})

describe('connection core: session touch', () => {
  it('touches the session every quarter TTL, and closes 4409 when the store says it moved', async () => {
    const h = harness({ sessionTtlMs: 40_000, heartbeatMs: 1_000, timeoutMs: 60_000 })
    const welcome = await h.open()
    h.clock.t += 10_000
    h.step({ type: 'tick' })
    expect(h.pending).toBe(1) // the touch
    await h.answer()
    expect(h.closes()).toEqual([])
    // Another client claims the session: the next touch finds another generation.
    const id = (welcome as { session: { id: string } }).session.id
    await h.store.claimSession(id, 40_000, { presented: 0, next: 7, instance: 'i1', attempt: 2, lastSeq: 0 })
    h.clock.t += 10_000
    h.step({ type: 'tick' })
    await h.answer()
    expect(h.closes()).toEqual([{ code: CloseCode.SESSION_MOVED, reason: expect.any(String) }])
  })
})

describe('connection core: replay and live', () => {
  it('replays from the client position and merges live messages that arrive meanwhile: no gap, no duplicate at the seam', async () => {
    const h = harness()
    for (let i = 1; i <= 600; i++) await h.store.append('feed', i)
    const head = await h.store.head('feed')
    h.frame({ t: 'hello', v: 1, instance: 'i1', attempt: 1, subs: { feed: { offset: 100, epoch: head.epoch } } })
    await h.answer(1) // createSession: welcome, listen, head asked
    await h.answer(1) // head: subscribed, first read asked
    for (let i = 601; i <= 620; i++) await h.store.append('feed', i) // live, during the replay
    await h.answer()
    const offsets = h.sent().flatMap((f) => (f.t === 'msg' ? [f.offset] : []))
    expect(offsets).toEqual(Array.from({ length: 520 }, (_, i) => 101 + i))
    expect(h.sent().find((f) => f.t === 'subscribed')).toMatchObject({ recovered: true })
  })

  it('a resync (the store restarted) makes an idle subscription look at its head: a new epoch is a gap, even on a quiet topic', async () => {
    const h = harness()
    await h.store.append('quiet', 1)
    h.frame({ t: 'hello', v: 1, instance: 'i1', attempt: 1, subs: { quiet: null } })
    await h.answer()
    // The store "lost" the log: simulate a new epoch by a head that says so, then tell the subscription.
    const realHead = h.store.head.bind(h.store)
    h.store.head = async (t) => ({ ...(await realHead(t)), epoch: 'after-restart', last: 0, first: 1 })
    h.step({ type: 'resync', topic: 'quiet' })
    await h.answer()
    const subscribed = h.sent().filter((f) => f.t === 'subscribed')
    expect(subscribed.at(-1)).toMatchObject({ topic: 'quiet', epoch: 'after-restart', recovered: false, gap: { reason: 'epoch' } })
  })

  it('waits for the output to drain before reading on, so a replay never outruns the client', async () => {
    const h = harness()
    for (let i = 1; i <= 600; i++) await h.store.append('feed', { i, pad: 'x'.repeat(5_000) })
    const head = await h.store.head('feed')
    h.frame({ t: 'hello', v: 1, instance: 'i1', attempt: 1, subs: { feed: { offset: 0, epoch: head.epoch } } })
    await h.answer(2)
    await h.answer(1) // first batch of 256 × 5 KB: over the 1 MiB high water
    expect(h.effects.filter((e) => e.type === 'await-drain')).toHaveLength(1)
    expect(h.pending).toBe(0)
    // Each drain lets one more batch through, until all 600 are out.
    for (let i = 0; i < 3; i++) {
      h.step({ type: 'drained' })
      await h.answer()
    }
    expect(h.effects.filter((e) => e.type === 'await-drain')).toHaveLength(2) // after 256 and 512; the last 88 fit
    expect(h.sent().filter((f) => f.t === 'msg')).toHaveLength(600)
  })
})
