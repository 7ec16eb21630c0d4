/** The counting the fault tests rely on must itself be able to fail: lost, duplicated and reordered messages show up. */
import { describe, expect, it } from 'vitest'
import { Ledger, countsLine, sumCounts } from './support/ledger.js'

describe('ledger', () => {
  it('counts nothing wrong when every reader got every message once, in order', () => {
    const ledger = new Ledger()
    const readA = ledger.reader('a')
    const readB = ledger.reader('b')
    for (let n = 1; n <= 3; n++) {
      ledger.sent('p', n)
      readA('t', n, { from: 'p', n })
      readB('t', n, { from: 'p', n })
    }
    expect(ledger.counts()).toEqual({ sent: 3, expected: 6, received: 6, lost: 0, duplicated: 0, outOfOrder: 0, gaps: 0, resets: 0 })
    expect(ledger.complete()).toBe(true)
  })

  it('counts a lost, a duplicated and an out-of-order message, and explicit gaps', () => {
    const ledger = new Ledger()
    const read = ledger.reader('a')
    for (let n = 1; n <= 4; n++) ledger.sent('p', n)
    read('t', 1, { from: 'p', n: 1 })
    read('t', 3, { from: 'p', n: 3 })
    read('t', 2, { from: 'p', n: 2 }) // after 3: out of order
    read('t', 4, { from: 'p', n: 3 }) // again: duplicated; 4 never arrives: lost
    ledger.gap('a')
    expect(ledger.counts()).toMatchObject({ expected: 4, received: 3, lost: 1, duplicated: 1, outOfOrder: 1, gaps: 1 })
    expect(ledger.complete()).toBe(false)
  })

  it('an inbox reader expects only its own messages; counts add up; the line prints every count', () => {
    const ledger = new Ledger()
    ledger.sent('me', 2)
    ledger.sent('other', 5)
    const read = ledger.reader('me', ['me'])
    read('@inbox', 1, { from: 'me', n: 1 })
    read('@inbox', 2, { from: 'me', n: 2 })
    const total = sumCounts(ledger.counts(), ledger.counts())
    expect(total).toMatchObject({ expected: 4, received: 4, lost: 0 })
    expect(countsLine('x', total, { failover: '12ms' })).toBe(
      '[x] sent=14 received=4/4 lost=0 duplicated=0 outOfOrder=0 gaps=0 resets=0 failover=12ms',
    )
  })
})
