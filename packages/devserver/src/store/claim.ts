/**
 * The rule of `Store.claimSession` (see `Claim` in types.ts for why), as one pure function. The memory store
 * calls it; the Redis store's CLAIM script is the same rule in Lua; the store contract suite checks both.
 */
import type { Claim } from './types.js'

/**
 * What a session record must remember to judge a claim: its generation, the generation the latest claim
 * presented (`base`), acked, and who made the latest claim, on which attempt.
 */
export interface ClaimState {
  generation: number
  base: number
  acked: number
  instance: string | undefined
  attempt: number
}

export function judgeClaim(state: ClaimState, claim: Claim): 'claimed' | 'taken' | 'stale' {
  const knowsEveryWrite = claim.lastSeq >= state.acked
  if (claim.instance !== undefined && claim.instance === state.instance) {
    if (claim.attempt <= state.attempt) return 'stale'
    const ownToken = claim.presented === state.generation || claim.presented === state.base
    return ownToken && knowsEveryWrite ? 'claimed' : 'taken'
  }
  return claim.presented === state.generation && knowsEveryWrite ? 'claimed' : 'taken'
}

/** The record after a successful claim: the new generation, and what the claim presented as the base. */
export function claimedState(claim: Claim): { generation: number; base: number; instance: string | undefined; attempt: number } {
  return { generation: claim.next, base: claim.presented, instance: claim.instance, attempt: claim.attempt }
}
