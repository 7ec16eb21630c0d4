/**
 * The counter every spec relies on must be able to say "lost", "duplicated" and "out of order"; otherwise a
 * green suite proves nothing. Plain Playwright test: no browser, no cluster.
 */
import { test, expect } from '@playwright/test'
import { ids, tally, type Seen } from '../support/tally.js'

const at = (topic: string, offset: number, id: string): Seen => ({ topic, offset, id })

test('tally counts lost, duplicated and out-of-order deliveries', () => {
  const expected = ids('a', 4)
  expect(tally(expected, [at('t', 1, 'a-1'), at('t', 2, 'a-2'), at('t', 3, 'a-3'), at('t', 4, 'a-4')])).toEqual({
    expected: 4,
    received: 4,
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
  })
  // a-3 missing, a-2 twice, a-4 before a-1 (by offset and by the sender's own order).
  const bad = [at('t', 1, 'a-2'), at('t', 1, 'a-2'), at('t', 4, 'a-4'), at('t', 2, 'a-1'), at('t', 9, 'other')]
  expect(tally(expected, bad)).toEqual({ expected: 4, received: 4, lost: 1, duplicated: 1, outOfOrder: 1 })
  // Two senders interleaved on one topic are in order as long as offsets and each sender's ids increase.
  const mixed = [at('t', 1, 'a-1'), at('t', 2, 'b-1'), at('t', 3, 'b-2'), at('t', 4, 'a-2')]
  expect(tally([...ids('a', 2), ...ids('b', 2)], mixed).outOfOrder).toBe(0)
})
