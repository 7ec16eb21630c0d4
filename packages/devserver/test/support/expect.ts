/** The one assertion every fault test ends with: prints the counts on one line, then requires each to be 0. */
import { expect } from 'vitest'
import { countsLine, exactlyOnceViolations } from '../../src/testing/ledger.js'
import type { Load } from './load.js'

export function expectNothingLost(label: string, load: Load, extra: Record<string, string | number> = {}): void {
  const counts = load.counts()
  console.log(countsLine(label, counts, { failures: load.failures.length, ...extra }))
  const misses = load.ledger.misses()
  if (misses.length > 0) console.log(`[${label}] first misses: ${misses.slice(0, 10).map((m) => `${m.reader} ${m.stream}#${m.n} (${m.by ?? 'silent'})`).join(', ')}`)
  expect(load.failures).toEqual([]) // every publish/send promise resolved: applied exactly once
  // Nothing lost (silently or not), duplicated, reordered, unapplied or applied twice; something counted.
  expect(exactlyOnceViolations(counts)).toEqual([])
  expect(counts).toMatchObject({ gaps: 0, resets: 0 })
  expect(counts.received).toBe(counts.expected)
}
