/**
 * Full-jitter exponential backoff (AWS architecture blog, "Exponential Backoff and Jitter", 2015): the delay is
 * uniform in [0, min(maxMs, minMs · factor^attempt)]. Full rather than equal or decorrelated jitter because it
 * spreads a herd of clients that lost the same node over the whole window, which is what the balancer needs.
 * Pure: the random source is a parameter, so tests and the herd simulation are deterministic.
 */
export interface Backoff {
  /** Ceiling of the first retry window, ms. */
  minMs: number
  /** Largest ceiling, ms, whatever the attempt. */
  maxMs: number
  /** Growth of the ceiling per failed attempt. */
  factor: number
}

/** Delay before retry number `attempt` (0 for the first retry after a loss). `random()` is in [0, 1). */
export function backoffDelay(attempt: number, b: Backoff, random: () => number): number {
  // min() first: factor^attempt may overflow to Infinity after ~1000 attempts, and min(max, Infinity) is fine.
  const ceiling = Math.min(b.maxMs, b.minMs * Math.pow(b.factor, attempt))
  return Math.floor(random() * ceiling)
}
