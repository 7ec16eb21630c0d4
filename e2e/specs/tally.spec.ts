/**
 * The counter every spec relies on must be able to say "lost", "duplicated" and "out of order"; otherwise a
 * green suite proves nothing. Plain Playwright test: no browser, no cluster. (The definitions themselves are
 * tested with the ledger, packages/devserver/test/ledger.test.ts; this is the page-id adapter.)
 */
import { test, expect } from '@playwright/test'
import { ids, tagOfId, tally, type Seen } from '../support/tally.js'

const at = (topic: string, offset: number, id: string, epoch = 'e1'): Seen => ({ topic, offset, epoch, id })

test('tally counts lost, duplicated and out-of-order deliveries', () => {
  const expected = ids('a', 4)
  expect(tally(expected, [at('t', 1, 'a-1'), at('t', 2, 'a-2'), at('t', 3, 'a-3'), at('t', 4, 'a-4')])).toMatchObject({
    expected: 4,
    received: 4,
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
  })
  // a-3 missing, a-2 twice, a-1 after a-4 (by offset and by the sender's own order); 'other' is no page id.
  const bad = [at('t', 1, 'a-2'), at('t', 1, 'a-2'), at('t', 4, 'a-4'), at('t', 2, 'a-1'), at('t', 9, 'other')]
  expect(tally(expected, bad)).toMatchObject({ expected: 4, received: 3, lost: 1, silent: 1, duplicated: 1, outOfOrder: 1 })
  // Two senders interleaved on one topic are in order as long as offsets and each sender's ids increase.
  const mixed = [at('t', 1, 'a-1'), at('t', 2, 'b-1'), at('t', 3, 'b-2'), at('t', 4, 'a-2')]
  expect(tally([...ids('a', 2), ...ids('b', 2)], mixed).outOfOrder).toBe(0)
  // A new epoch restarts offsets at 1: not out of order against the old epoch's offsets.
  expect(tally(ids('a', 3), [at('t', 7, 'a-1'), at('t', 8, 'a-2'), at('t', 1, 'a-3', 'e2')]).outOfOrder).toBe(0)
  // The inbox, and ids that are not the page's own.
  expect(tally(ids('echo', 2), [at('@inbox', 1, 'echo-1'), at('@inbox', 2, 'echo-2')])).toMatchObject({ received: 2, lost: 0 })
  expect([tagOfId('up-12'), tagOfId('up2-1'), tagOfId('x'), tagOfId('a-0')]).toEqual([{ stream: 'up', n: 12 }, { stream: 'up2', n: 1 }, undefined, undefined])
  expect(() => tally(ids('a', 1), [at('t', 1, 'a-1'), at('u', 1, 'a-1')])).toThrow(/filter by topic/)
})
