/** The one assertion every fault test ends with: prints the counts on one line, then requires each to be 0. */
import { expect } from 'vitest'
import { countsLine } from './ledger.js'
import type { Load } from './load.js'

export function expectNothingLost(label: string, load: Load, extra: Record<string, string | number> = {}): void {
  const counts = load.counts()
  console.log(countsLine(label, counts, { failures: load.failures.length, ...extra }))
  expect(load.failures).toEqual([]) // every publish/send promise resolved: applied exactly once
  expect(counts).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, gaps: 0, resets: 0 })
  expect(counts.received).toBe(counts.expected)
  expect(counts.expected).toBeGreaterThan(0) // a test that counted nothing proves nothing
}
