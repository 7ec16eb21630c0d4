/**
 * A token bucket: `burst` frames at once, refilled at `perSecond`. Pure apart from the clock it is given.
 */
export interface RateLimit {
  /** Sustained frames per second per connection. */
  perSecond: number
  /** Frames allowed in one burst. */
  burst: number
}

export class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    private readonly limit: RateLimit,
    now: number,
  ) {
    this.tokens = limit.burst
    this.last = now
  }

  /** Take one token; false when the bucket is empty (the caller closes with 4429). */
  take(now: number): boolean {
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) / 1000) * this.limit.perSecond)
    this.last = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}
