/**
 * Session tokens: `<sessionId>.<generation>.<base64url(HMAC-SHA256(secret, "<sessionId>.<generation>"))>`. Any
 * node of the cluster can check a token with the shared secret alone (no store read), and no one without the
 * secret can mint a token for a session id they saw (say, in a URL's `sid`).
 *
 * Why the generation is in the token: a token names one claim of its session, and every resume issues a new
 * one. A client presenting a token that is no longer current is either the same client retrying (its welcome
 * was lost; `hello.instance` tells) or a copy of an older persisted state, and a copy must not write to the
 * session (store/types.ts `Claim` has the rules).
 */
import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto'

/** A fresh random cluster secret, for when none is configured (tokens then die with the cluster). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url')
}

/** A new session id: 128 random bits, base64url (no `.`, safe in URLs and store keys). */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url')
}

/**
 * A new session generation: random, not a counter, so a store rolled back to an older snapshot can never hand
 * out again a generation that a zombie connection from the lost future still holds (fencing compares equality).
 * 48 bits: an exact JS number, unique in practice per session.
 */
export function newGeneration(): number {
  return randomInt(1, 2 ** 48)
}

export function signSession(secret: string, sessionId: string, generation: number): string {
  const claim = `${sessionId}.${generation}`
  return `${claim}.${mac(secret, claim).toString('base64url')}`
}

export interface TokenClaim {
  session: string
  generation: number
}

/** The session and generation a token proves, or null when it is malformed or signed with another secret. */
export function verifyToken(secret: string, token: string): TokenClaim | null {
  const dot = token.lastIndexOf('.')
  if (dot <= 0 || dot === token.length - 1) return null
  const claim = token.slice(0, dot)
  const genDot = claim.lastIndexOf('.')
  const generation = Number(claim.slice(genDot + 1))
  if (genDot <= 0 || !/^[1-9]\d{0,15}$/.test(claim.slice(genDot + 1)) || !Number.isSafeInteger(generation)) return null
  // Compared as text, not decoded: base64 decoders forgive padding and stray characters, and a token must have
  // exactly one accepted spelling.
  const given = Buffer.from(token.slice(dot + 1))
  const expected = Buffer.from(mac(secret, claim).toString('base64url'))
  // timingSafeEqual needs equal lengths; the length of a MAC is public, so checking it first leaks nothing.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
  return { session: claim.slice(0, genDot), generation }
}

function mac(secret: string, claim: string): Buffer {
  return createHmac('sha256', secret).update(claim).digest()
}
