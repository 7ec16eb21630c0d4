/**
 * The rule of `Store.claimSession` (see `Claim` in types.ts for why), as one pure function. The memory store
 * calls it; the Redis store's CLAIM script is the same rule in Lua; the store contract suite checks both.
 */
import type { Claim } from './types.js'

/** What a session record must remember to judge a claim: its generation, acked, and who made its latest claim. */
export interface ClaimState {
  generation: number
  acked: number
  instance: string | undefined
  attempt: number
}

export function judgeClaim(state: ClaimState, claim: Claim): 'claimed' | 'taken' | 'stale' {
  if (claim.instance !== undefined && claim.instance === state.instance) return claim.attempt > state.attempt ? 'claimed' : 'stale'
  return claim.presented === state.generation && claim.lastSeq >= state.acked ? 'claimed' : 'taken'
}
