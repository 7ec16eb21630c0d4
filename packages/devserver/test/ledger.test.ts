/**
 * The counting every harness relies on must itself be able to fail: each definition of src/testing/ledger.ts
 * (expected, lost, duplicated, out of order, reported versus silent, applied once) shown on literal receipts.
 */
import { describe, expect, it } from 'vitest'
import {
  Ledger,
  addCounts,
  countsLine,
  exactlyOnceViolations,
  inboxOf,
  silentViolations,
  tagOf,
  type Receipt,
} from '../src/testing/ledger.js'

const at = (reader: string, topic: string, epoch: string, offset: number, stream: string, n: number): Receipt => ({ reader, topic, epoch, offset, stream, n })

describe('ledger', () => {
  it('counts nothing wrong when every reader got every message once, in order', () => {
    const ledger = new Ledger()
    ledger.reads('a', 't')
    ledger.reads('b', 't')
    for (let n = 1; n <= 3; n++) {
      ledger.sent('t', { stream: 'p', n })
      ledger.received(at('a', 't', 'e', n, 'p', n))
      ledger.received(at('b', 't', 'e', n, 'p', n))
    }
    expect(ledger.counts()).toMatchObject({ sent: 3, expected: 6, received: 6, lost: 0, duplicated: 0, outOfOrder: 0, unexpected: 0 })
    expect(ledger.complete()).toBe(true)
    expect(exactlyOnceViolations(ledger.counts())).toEqual([])
  })

  it('counts a lost, a duplicated and an out-of-order message', () => {
    const ledger = new Ledger()
    ledger.reads('a', 't')
    for (let n = 1; n <= 4; n++) ledger.sent('t', { stream: 'p', n })
    ledger.received(at('a', 't', 'e', 1, 'p', 1))
    ledger.received(at('a', 't', 'e', 3, 'p', 3))
    ledger.received(at('a', 't', 'e', 2, 'p', 2)) // after 3: out of order (offset and n)
    ledger.received(at('a', 't', 'e', 3, 'p', 3)) // again: duplicated, not also out of order; 4 never arrives
    const c = ledger.counts()
    expect(c).toMatchObject({ expected: 4, received: 3, lost: 1, silent: 1, reported: 0, duplicated: 1, outOfOrder: 1 })
    expect(ledger.complete()).toBe(false)
    expect(ledger.misses()).toEqual([{ reader: 'a', topic: 't', stream: 'p', n: 4, by: null }])
    expect(silentViolations(c)).toHaveLength(3)
  })

  it('out of order compares with the previous receipt, and never across epochs', () => {
    const ledger = new Ledger()
    ledger.reads('a', 't')
    for (const s of ['a', 'b', 'c', 'd', 'e', 'f']) ledger.sent('t', { stream: s, n: 1 })
    // Offsets 1, 5, then 2 (late: one), 3 and 4 follow 2 in order: one out of order, not three.
    for (const [o, s] of [[1, 'a'], [5, 'b'], [2, 'c'], [3, 'd'], [4, 'e']] as const) ledger.received(at('a', 't', 'e1', o, s, 1))
    expect(ledger.counts().outOfOrder).toBe(1)
    // A new epoch restarts offsets at 1: not out of order against offset 4 of the old one.
    ledger.received(at('a', 't', 'e2', 1, 'f', 1))
    expect(ledger.counts().outOfOrder).toBe(1)
    // Within one stream, every n below an earlier one is late (its publisher's own order).
    const one = new Ledger()
    one.reads('r', 't')
    for (let n = 1; n <= 3; n++) one.sent('t', { stream: 'p', n })
    for (const [o, n] of [[1, 3], [2, 1], [3, 2]] as const) one.received(at('r', 't', 'e', o, 'p', n))
    expect(one.counts().outOfOrder).toBe(2)
    // Two streams interleaved on one topic are in order as long as offsets and each stream's n increase.
    const mixed = new Ledger()
    mixed.reads('r', 't')
    for (const s of ['a', 'b']) for (const n of [1, 2]) mixed.sent('t', { stream: s, n })
    for (const [o, s, n] of [[1, 'a', 1], [2, 'b', 1], [3, 'b', 2], [4, 'a', 2]] as const) mixed.received(at('r', 't', 'e', o, s, n))
    expect(mixed.counts()).toMatchObject({ received: 4, outOfOrder: 0 })
  })

  it('expects only what was sent after the reader started, or from where it says', () => {
    const ledger = new Ledger()
    ledger.sent('t', { stream: 'p', n: 1 })
    ledger.reads('late', 't')
    ledger.reads('all', 't', { from: { p: 1 } })
    ledger.sent('t', { stream: 'p', n: 2 })
    ledger.received(at('late', 't', 'e', 1, 'p', 1)) // before its start: unexpected, not lost or received
    ledger.received(at('late', 't', 'e', 2, 'p', 2))
    expect(ledger.counts({ reader: 'late' })).toMatchObject({ expected: 1, received: 1, lost: 0, unexpected: 1 })
    expect(ledger.counts({ reader: 'all' })).toMatchObject({ expected: 2, received: 0, lost: 2 })
  })

  it('inboxes are one per reader: a reader expects only its own sends', () => {
    const ledger = new Ledger()
    ledger.reads('me', '@inbox')
    ledger.reads('other', '@inbox')
    ledger.sent(inboxOf('me'), { stream: 'me:send', n: 1 })
    ledger.sent(inboxOf('me'), { stream: 'me:send', n: 2 })
    ledger.sent(inboxOf('other'), { stream: 'other:send', n: 1 })
    ledger.received(at('me', '@inbox', 'e', 1, 'me:send', 1))
    ledger.received(at('me', '@inbox', 'e', 2, 'me:send', 2))
    expect(ledger.counts({ reader: 'me' })).toMatchObject({ sent: 2, expected: 2, received: 2, lost: 0 })
    expect(ledger.counts({ topic: '@inbox' })).toMatchObject({ sent: 3, expected: 3, received: 2, lost: 1, silent: 1 })
    expect(() => ledger.sent('t', { stream: 'me:send', n: 3 })).toThrow(/own stream/)
  })

  it("an 'epoch' gap reports what was published before the new epoch; what is in the new epoch stays silent", () => {
    const ledger = new Ledger()
    ledger.reads('r', 't')
    ledger.reads('other', 't')
    for (let n = 1; n <= 3; n++) ledger.sent('t', { stream: 'p', n })
    ledger.received(at('r', 't', 'e1', 1, 'p', 1))
    ledger.received(at('other', 't', 'e1', 2, 'p', 2)) // 2 was in the old log
    ledger.received(at('other', 't', 'e2', 1, 'p', 3)) // 3 is in the new one
    ledger.gap({ reader: 'r', topic: 't', reason: 'epoch', from: 1, to: 0 }) // no epoch given: the next receipt's
    ledger.sent('t', { stream: 'p', n: 4 })
    ledger.received(at('r', 't', 'e2', 2, 'p', 4))
    expect(ledger.misses({ reader: 'r' })).toEqual([
      { reader: 'r', topic: 't', stream: 'p', n: 2, by: 'gap' },
      { reader: 'r', topic: 't', stream: 'p', n: 3, by: null },
    ])
    expect(ledger.counts({ reader: 'r' })).toMatchObject({ lost: 2, reported: 1, silent: 1, gaps: 1, outOfOrder: 0 })
  })

  it("a 'retention' gap reports the offsets it names, in its epoch", () => {
    const ledger = new Ledger()
    ledger.reads('r', 't')
    for (let n = 1; n <= 5; n++) {
      ledger.sent('t', { stream: 'p', n })
      ledger.logged({ topic: 't', epoch: 'e', offset: n, stream: 'p', n })
    }
    ledger.received(at('r', 't', 'e', 1, 'p', 1))
    ledger.gap({ reader: 'r', topic: 't', reason: 'retention', from: 2, to: 3 })
    ledger.received(at('r', 't', 'e', 5, 'p', 5))
    expect(ledger.misses().map((m) => [m.n, m.by])).toEqual([[2, 'gap'], [3, 'gap'], [4, null]])
  })

  it('a reset reports its unconfirmed sends and the old inbox; a rejected send never applied is not expected', () => {
    const ledger = new Ledger()
    ledger.reads('me', '@inbox')
    ledger.reads('peer', 't')
    ledger.sent(inboxOf('me'), { stream: 'echo', n: 1 })
    ledger.sent('t', { stream: 'pub', n: 1 })
    ledger.sent('t', { stream: 'pub', n: 2 })
    ledger.reset({ reader: 'me', unconfirmed: [{ stream: 'pub', n: 2 }] })
    ledger.settled({ stream: 'pub', n: 1 }, 'resolved')
    ledger.settled({ stream: 'pub', n: 2 }, 'rejected')
    ledger.sent(inboxOf('me'), { stream: 'echo', n: 2 }) // after the reset: the new session must deliver it
    ledger.received(at('peer', 't', 'e', 1, 'pub', 1))
    expect(ledger.misses()).toEqual([
      { reader: 'me', topic: inboxOf('me'), stream: 'echo', n: 1, by: 'reset' },
      { reader: 'me', topic: inboxOf('me'), stream: 'echo', n: 2, by: null },
    ])
    expect(ledger.counts({ reader: 'peer' })).toMatchObject({ expected: 1, received: 1, resolved: 1, rejected: 1, notApplied: 0 })
    // Applied after all (the copy delivered it): now every reader of the topic expects it.
    ledger.received(at('peer', 't', 'e', 2, 'pub', 2))
    expect(ledger.counts({ reader: 'peer' })).toMatchObject({ expected: 2, received: 2 })
  })

  it('client → server: resolved must be applied once; applied twice is two offsets of one epoch', () => {
    const ledger = new Ledger()
    ledger.reads('r', 't')
    for (let n = 1; n <= 3; n++) {
      ledger.sent('t', { stream: 'p', n })
      ledger.settled({ stream: 'p', n }, 'resolved')
    }
    ledger.received(at('r', 't', 'e1', 1, 'p', 1))
    ledger.received(at('r', 't', 'e1', 2, 'p', 2))
    ledger.received(at('r', 't', 'e1', 3, 'p', 2)) // p/2 again at another offset: applied twice
    ledger.logged({ topic: 't', epoch: 'e2', offset: 1, stream: 'p', n: 1 }) // restored into a new epoch: fine
    expect(ledger.counts()).toMatchObject({ resolved: 3, notApplied: 1, appliedTwice: 1, duplicated: 1, silent: 1 })
  })

  it('tags, sums and the printed line', () => {
    expect(tagOf({ stream: 'c1', n: 3, pad: 'x' })).toEqual({ stream: 'c1', n: 3 })
    expect([tagOf({ stream: 'c1', n: 0 }), tagOf({ from: 'c1', n: 1 }), tagOf(null), tagOf(7)]).toEqual([undefined, undefined, undefined, undefined])
    const ledger = new Ledger()
    ledger.reads('me', '@inbox')
    ledger.sent(inboxOf('me'), { stream: 'me', n: 1 })
    ledger.sent(inboxOf('me'), { stream: 'me', n: 2 })
    ledger.received(at('me', '@inbox', 'e', 1, 'me', 1))
    ledger.received(at('me', '@inbox', 'e', 2, 'me', 2))
    const total = addCounts(ledger.counts(), ledger.counts())
    expect(total).toMatchObject({ sent: 4, expected: 4, received: 4, lost: 0 })
    expect(countsLine('x', total, { failover: '12ms' })).toBe(
      '[x] sent=4 received=4/4 lost=0 silent=0 duplicated=0 outOfOrder=0 unexpected=0 gaps=0 resets=0 notApplied=0 appliedTwice=0 failover=12ms',
    )
    expect(exactlyOnceViolations(addCounts())).toEqual(['expected=0: nothing was counted'])
  })

  it('follows a client: messages, gaps and resets through its events', () => {
    const handlers = new Map<string, (payload: never) => void>()
    const client = { on: (event: string, fn: (payload: never) => void) => void handlers.set(event, fn) }
    const emit = (event: string, payload: unknown) => handlers.get(event)?.(payload as never)
    const ledger = new Ledger()
    ledger.follow('c', client)
    ledger.reads('c', 't')
    ledger.sent('t', { stream: 's', n: 1 })
    ledger.sent('t', { stream: 's', n: 2 })
    emit('message', { topic: 't', offset: 1, epoch: 'e', data: { stream: 's', n: 1 } })
    emit('message', { topic: 't', offset: 2, epoch: 'e', data: 'not a tag' })
    emit('reset', { reason: 'expired', unconfirmed: [{ topic: 't', data: { stream: 's', n: 2 } }] })
    expect(ledger.misses()).toEqual([{ reader: 'c', topic: 't', stream: 's', n: 2, by: 'reset' }])
  })
})
