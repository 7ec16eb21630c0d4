/**
 * Exponential backoff, defined once for every retry loop in Lifeline: the SDK's reconnects draw a full-jitter
 * delay (`backoffDelay`); the supervisor's restarts of a crashed node and the Redis store's reconnects wait the
 * ceiling itself (`backoffCeiling`). Pure: no clock, and the random source is a parameter, so tests and the herd
 * simulation are deterministic.
 */
export interface Backoff {
  /** Ceiling of the first retry window, ms. */
  minMs: number
  /** Largest ceiling, ms, whatever the attempt. */
  maxMs: number
  /** Growth of the ceiling per failed attempt. */
  factor: number
}

/** The longest wait before retry number `attempt` (0 for the first): min(maxMs, minMs · factor^attempt). */
export function backoffCeiling(attempt: number, b: Backoff): number {
  // factor^attempt may overflow to Infinity after ~1000 attempts; min(max, Infinity) is still max.
  return Math.min(b.maxMs, b.minMs * Math.pow(b.factor, attempt))
}

/**
 * Full jitter (AWS architecture blog, "Exponential Backoff and Jitter", 2015): uniform in [0, ceiling), whole ms.
 * Full rather than equal or decorrelated jitter because it spreads a herd of clients that lost the same node
 * over the whole window, which is what the balancer needs. `random()` is in [0, 1).
 */
export function backoffDelay(attempt: number, b: Backoff, random: () => number): number {
  return Math.floor(random() * backoffCeiling(attempt, b))
}
