/**
 * History in the node's connection core, on a fake clock with no socket: a subscription's start ('earliest',
 * an offset without an epoch) and the `history` query (tail, from, earliest, limits, retention gaps, inbox,
 * store failure). A real MemoryStore answers the store calls; its age retention makes the gaps.
 */
import { describe, expect, it } from 'vitest'
import { ErrorCode, type Result, type ServerFrame } from '@lifeline/protocol'
import { HISTORY, type HistoryValue } from '../src/node/core/history.js'
import { inboxTopic } from '../src/store/inbox.js'
import { DEFAULT_RETENTION } from '../src/store/retention.js'
import { closingHarnesses, type Harness } from './support/core-harness.js'

const harness = closingHarnesses()

/** Appends `data` values to `topic`; with `expired`, appended so long ago that age retention has dropped them. */
async function fill(h: Harness, topic: string, data: unknown[], expired = false): Promise<void> {
  const now = h.clock.t
  if (expired) h.clock.t -= DEFAULT_RETENTION.maxAgeMs + 1
  for (const d of data) await h.store.append(topic, d)
  h.clock.t = now
}
/** Lets `ms` pass on a live connection (a pong every 4 s keeps it from timing out). */
function pass(h: Harness, ms: number): void {
  for (let left = ms; left > 0; left -= 4_000) {
    h.clock.t += Math.min(4_000, left)
    h.frame({ t: 'pong' })
  }
}
const msgs = (h: Harness, topic: string) => h.sent().flatMap((f) => (f.t === 'msg' && f.topic === topic ? [f.offset] : []))
const subscribed = (h: Harness, topic: string) => h.sent().filter((f): f is Extract<ServerFrame, { t: 'subscribed' }> => f.t === 'subscribed' && f.topic === topic)
async function ask(h: Harness, fields: object, id = 1): Promise<HistoryValue | Extract<ServerFrame, { t: 'error' }>> {
  h.frame({ t: 'query', id, kind: 'history', ...fields })
  await h.answer()
  const answer = h.sent().find((f) => (f.t === 'result' || f.t === 'error') && f.id === id)!
  return answer.t === 'result' ? ((answer as Result).value as HistoryValue) : (answer as Extract<ServerFrame, { t: 'error' }>)
}
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('connection core: where a subscription starts', () => {
  it("'earliest' replays from the oldest retained message with no gap, `after` says where; a message appended during the replay comes once, at the seam", async () => {
    const h = harness()
    await fill(h, 'log', [1, 2], true) // dropped by age
    await fill(h, 'log', [3, 4, 5])
    h.frame({ t: 'hello', v: 1, instance: 'i1', attempt: 1, subs: { '@inbox': null, log: 'earliest' } })
    await h.answer(2) // createSession, then the inbox's head
    await h.answer(1) // log's head
    await h.store.append('log', 6) // live, while the replay has not been read yet
    await h.answer()
    expect(subscribed(h, 'log')).toEqual([{ t: 'subscribed', topic: 'log', offset: 5, epoch: h.store.epoch, recovered: true, after: 2 }])
    expect(msgs(h, 'log')).toEqual([3, 4, 5, 6])
  })

  it('an offset without an epoch: a retention gap if it is gone, then the oldest retained; past the head, live from now', async () => {
    const h = harness()
    await fill(h, 'feed', [1, 2, 3], true)
    await fill(h, 'feed', [4, 5])
    await h.open()
    h.frame({ t: 'sub', topic: 'feed', from: { offset: 1 } })
    h.frame({ t: 'sub', topic: 'later', from: { offset: 99 } })
    await h.answer()
    expect(subscribed(h, 'feed')).toEqual([
      { t: 'subscribed', topic: 'feed', offset: 5, epoch: h.store.epoch, recovered: false, gap: { reason: 'retention', from: 2, to: 3 }, after: 3 },
    ])
    expect(msgs(h, 'feed')).toEqual([4, 5])
    expect(subscribed(h, 'later')).toEqual([{ t: 'subscribed', topic: 'later', offset: 0, epoch: h.store.epoch, recovered: true, after: 0 }])
  })

  it('a position with an epoch keeps its meaning: no `after`, the replay from it', async () => {
    const h = harness()
    await fill(h, 'feed', [1, 2, 3])
    await h.open({ '@inbox': null, feed: { offset: 1, epoch: h.store.epoch } })
    expect(subscribed(h, 'feed')).toEqual([{ t: 'subscribed', topic: 'feed', offset: 3, epoch: h.store.epoch, recovered: true }])
    expect(msgs(h, 'feed')).toEqual([2, 3])
  })
})

describe('connection core: the history query', () => {
  it(`without from: the newest \`limit\` messages (default ${HISTORY.defaultLimit}), oldest first, with the head`, async () => {
    const h = harness()
    await fill(h, 'room', range(1, 150))
    await h.open()
    const tail = (await ask(h, { topic: 'room' })) as HistoryValue
    expect(tail.messages.map((m) => m.offset)).toEqual(range(51, 150))
    expect(tail.messages[0]).toEqual({ offset: 51, data: 51 })
    expect(tail).toMatchObject({ epoch: h.store.epoch, last: 150 })
    expect(tail.gap).toBeUndefined()
    const three = (await ask(h, { topic: 'room', limit: 3 }, 2)) as HistoryValue
    expect(three.messages.map((m) => m.offset)).toEqual([148, 149, 150])
  })

  it('from an offset, and from earliest; a limit above the maximum is clamped; past the head and a topic never written answer with no messages', async () => {
    const h = harness()
    await fill(h, 'room', range(1, HISTORY.maxLimit + 20))
    await h.open()
    expect(((await ask(h, { topic: 'room', from: 7, limit: 3 })) as HistoryValue).messages.map((m) => m.offset)).toEqual([7, 8, 9])
    expect(((await ask(h, { topic: 'room', from: 'earliest', limit: 2 }, 2)) as HistoryValue).messages.map((m) => m.offset)).toEqual([1, 2])
    expect(((await ask(h, { topic: 'room', from: 1, limit: 1_000_000 }, 3)) as HistoryValue).messages).toHaveLength(HISTORY.maxLimit)
    expect(await ask(h, { topic: 'room', from: 5_000 }, 4)).toEqual({ epoch: h.store.epoch, messages: [], last: HISTORY.maxLimit + 20 })
    expect(await ask(h, { topic: 'never' }, 5)).toEqual({ epoch: h.store.epoch, messages: [], last: 0 })
  })

  it("an offset retention dropped is said (`gap`), never skipped silently; 'earliest' and the tail ask only for what is retained", async () => {
    const h = harness()
    await fill(h, 'room', [1, 2, 3, 4], true)
    await fill(h, 'room', [5, 6])
    await h.open()
    expect(await ask(h, { topic: 'room', from: 2 })).toEqual({ epoch: h.store.epoch, last: 6, gap: { reason: 'retention', from: 2, to: 4 }, messages: [{ offset: 5, data: 5 }, { offset: 6, data: 6 }] })
    expect(await ask(h, { topic: 'room', from: 'earliest' }, 2)).toEqual({ epoch: h.store.epoch, last: 6, messages: [{ offset: 5, data: 5 }, { offset: 6, data: 6 }] })
    pass(h, DEFAULT_RETENTION.maxAgeMs + 1) // everything gone
    expect(await ask(h, { topic: 'room', from: 3 }, 3)).toEqual({ epoch: h.store.epoch, last: 6, gap: { reason: 'retention', from: 3, to: 6 }, messages: [] })
  })

  it(`one answer holds at most ${HISTORY.maxBytes} bytes of data (always one message at least); the app reads on up to \`last\``, async () => {
    const h = harness()
    const big = 'x'.repeat(400_000)
    await fill(h, 'blobs', [big, big, big, 'x'.repeat(2_000_000)])
    await h.open()
    const first = (await ask(h, { topic: 'blobs', from: 1 })) as HistoryValue
    expect(first.messages.map((m) => m.offset)).toEqual([1, 2])
    expect(first.last).toBe(4)
    const tail = (await ask(h, { topic: 'blobs' }, 2)) as HistoryValue
    expect(tail.messages.map((m) => m.offset)).toEqual([4]) // one message over the bound still comes
  })

  it("@inbox is the caller's own; a missing topic is refused with the query's id (BAD_FRAME) and the connection stays open", async () => {
    const h = harness()
    const welcome = await h.open()
    const session = (welcome as Extract<ServerFrame, { t: 'welcome' }>).session.id
    await fill(h, inboxTopic(session), ['reply'])
    await fill(h, inboxTopic('someone-else'), ['secret'])
    expect(((await ask(h, { topic: '@inbox' })) as HistoryValue).messages).toEqual([{ offset: 1, data: 'reply' }])
    expect(await ask(h, {}, 2)).toMatchObject({ t: 'error', code: ErrorCode.BAD_FRAME, id: 2 })
    expect(h.closes()).toEqual([])
  })

  it('does not hold the frame queue: a pub after it is applied while the history read waits; a failed store read answers STORE_UNAVAILABLE by id, nothing closes', async () => {
    const h = harness()
    await h.open()
    h.frame({ t: 'query', id: 1, kind: 'history', topic: 'room' })
    h.frame({ t: 'pub', seq: 1, topic: 'room', data: 'after' })
    expect(h.pending).toBe(2) // the history's head and the pub's apply, both asked
    h.fail()
    await h.answer()
    expect(h.sent().filter((f) => f.t === 'ack' || f.t === 'error')).toEqual([
      { t: 'error', code: ErrorCode.STORE_UNAVAILABLE, message: expect.stringContaining('ask again'), id: 1, topic: 'room' },
      { t: 'ack', seq: 1 },
    ])
    expect(h.closes()).toEqual([])
    expect(((await ask(h, { topic: 'room' }, 2)) as HistoryValue).messages).toEqual([{ offset: 1, data: 'after' }])
  })
})
