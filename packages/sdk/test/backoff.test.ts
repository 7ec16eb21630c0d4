import { describe, expect, it } from 'vitest'
import { backoffDelay } from '../src/backoff.js'
import { harness, timers } from './support/core-harness.js'

/** Deterministic PRNG (mulberry32) so the distribution test is reproducible. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('backoff', () => {
  it('is uniform in [0, min(max, min·factor^attempt)]', () => {
    const b = { minMs: 100, maxMs: 10_000, factor: 2 }
    expect([0, 1, 2, 3, 6, 7, 50, 5000].map((a) => backoffDelay(a, b, () => 0.999999))).toEqual([99, 199, 399, 799, 6399, 9999, 9999, 9999])
    expect(backoffDelay(5, b, () => 0)).toBe(0)
  })

  it('spreads 1,000 clients that lost the same node over the whole first window (no herd)', () => {
    const N = 1000
    const window = 100 // DEFAULTS.backoff.minMs: the first retry's window
    const delays: number[] = []
    for (let i = 0; i < N; i++) {
      const h = harness({ random: mulberry32(i + 1) })
      h.open()
      h.clock.t += 60_000 // a long-lived connection, so attempt 0
      const d = timers(h.step({ type: 'socket-close', code: 1006, reason: 'node killed' }), 'retry')[0]
      delays.push(d!)
    }
    const buckets = Array.from({ length: 10 }, () => 0)
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(0)
      expect(d).toBeLessThan(window)
      buckets[Math.floor((d / window) * 10)]!++
    }
    const expected = N / 10
    const chi2 = buckets.reduce((s, b) => s + (b - expected) ** 2 / expected, 0)
    console.log(`backoff herd: ${N} clients, first-retry deciles ${buckets.join(' ')}, chi2 ${chi2.toFixed(2)} (df 9, p=0.001 limit 27.88)`)
    for (const b of buckets) expect(b).toBeGreaterThanOrEqual(70) // expected 100 ± 3σ (σ ≈ 9.5)
    for (const b of buckets) expect(b).toBeLessThanOrEqual(130)
    expect(chi2).toBeLessThan(27.88)
    // no herd: at most 2% of clients in any 1 ms slot
    const perMs = new Map<number, number>()
    for (const d of delays) perMs.set(d, (perMs.get(d) ?? 0) + 1)
    expect(Math.max(...perMs.values())).toBeLessThanOrEqual(20)
  })
})
