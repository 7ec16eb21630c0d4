/**
 * Idempotency keys for `appendOnce` in the memory store: key → the first append's result, until it expires.
 *
 * Bounded: at most MAX_ONCE_KEYS keys, the oldest dropped first when a new one would pass it. 100,000 keys of a
 * few hundred bytes each is tens of MB at most, and it is far more than a dev cluster's backends publish within
 * the keys' retention; a key dropped early only means a retry that late appends again. The Redis store keeps
 * keys with a TTL instead (redis-backend.ts APPEND_ONCE) and has no such bound.
 */
import type { OnceResult } from './types.js'

export const MAX_ONCE_KEYS = 100_000

type Kept = { result: Omit<OnceResult, 'repeated'>; expiresAt: number }

export class OnceBook {
  /** In insertion order, which is also expiry order for one TTL: the oldest are at the front. */
  private readonly keys = new Map<string, Kept>()

  /** The first result under `key`, if it has not expired. */
  get(key: string, now: number): Omit<OnceResult, 'repeated'> | undefined {
    const kept = this.keys.get(key)
    if (!kept) return undefined
    if (kept.expiresAt > now) return kept.result
    this.keys.delete(key)
    return undefined
  }

  set(key: string, result: Omit<OnceResult, 'repeated'>, expiresAt: number): void {
    this.keys.set(key, { result, expiresAt })
    while (this.keys.size > MAX_ONCE_KEYS) this.keys.delete(this.keys.keys().next().value!)
  }

  /** Drop expired keys from the front (a key set later with a shorter TTL waits for its own access or a later sweep). */
  sweep(now: number): void {
    for (const [key, kept] of this.keys) {
      if (kept.expiresAt > now) break
      this.keys.delete(key)
    }
  }
}
