import { describe, expect, it } from 'vitest'
import { backoffCeiling, backoffDelay } from '../src/index.js'

describe('backoff', () => {
  it('the ceiling grows by factor per attempt up to maxMs', () => {
    // The supervisor's restarts of a crashed node: 100 ms doubling to 5 s.
    const restart = { minMs: 100, maxMs: 5_000, factor: 2 }
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((a) => backoffCeiling(a, restart))).toEqual([100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000])
    // The Redis store's reconnects: 50 ms doubling to reconnectMaxMs (default 1 s).
    const redis = { minMs: 50, maxMs: 1_000, factor: 2 }
    expect([0, 1, 4, 5, 10].map((a) => backoffCeiling(a, redis))).toEqual([50, 100, 800, 1_000, 1_000])
  })

  it('stays at maxMs where factor^attempt overflows', () => {
    expect(backoffCeiling(5_000, { minMs: 100, maxMs: 10_000, factor: 2 })).toBe(10_000)
  })

  it('the jittered delay is a whole ms in [0, ceiling)', () => {
    const b = { minMs: 100, maxMs: 10_000, factor: 2 }
    expect(backoffDelay(3, b, () => 0)).toBe(0)
    expect(backoffDelay(3, b, () => 0.999999)).toBe(799)
    expect(backoffDelay(3, b, () => 0.5)).toBe(400)
  })
})
