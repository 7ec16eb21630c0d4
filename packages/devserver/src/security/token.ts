/**
 * Session tokens: `<sessionId>.<base64url(HMAC-SHA256(secret, sessionId))>`. Any node of the cluster can
 * check a token with the shared secret alone (no store read), and no one without the secret can mint a token
 * for a session id they saw (say, in a URL's `sid`).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** A fresh random cluster secret, for when none is configured (tokens then die with the cluster). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url')
}

/** A new session id: 128 random bits, base64url (no `.`, safe in URLs and store keys). */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url')
}

export function signSession(secret: string, sessionId: string): string {
  return `${sessionId}.${mac(secret, sessionId).toString('base64url')}`
}

/** The session id a token proves, or null when it is malformed or signed with another secret. */
export function verifyToken(secret: string, token: string): string | null {
  const dot = token.lastIndexOf('.')
  if (dot <= 0 || dot === token.length - 1) return null
  const sessionId = token.slice(0, dot)
  // Compared as text, not decoded: base64 decoders forgive padding and stray characters, and a token must have
  // exactly one accepted spelling.
  const given = Buffer.from(token.slice(dot + 1))
  const expected = Buffer.from(mac(secret, sessionId).toString('base64url'))
  // timingSafeEqual needs equal lengths; the length of a MAC is public, so checking it first leaks nothing.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
  return sessionId
}

function mac(secret: string, sessionId: string): Buffer {
  return createHmac('sha256', secret).update(sessionId).digest()
}
