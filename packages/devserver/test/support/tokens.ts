/**
 * Users' JWTs for the tests, signed with jose as an app's backend would sign them, and a raw hello carrying
 * one (RawClient's own hello carries none).
 */
import { SignJWT, type CryptoKey } from 'jose'
import type { Welcome } from '@lifeline/protocol'
import type { RawClient, Subs } from '../fixtures/raw-client.js'

/** The HS256 secret the auth tests' nodes verify with. */
export const JWT_SECRET = 'lifeline-test-jwt-secret-0123456789'
export const API_KEY = 'lifeline-test-api-key-0123456789'

/** A token for `sub`, valid `ttlSeconds` (default an hour), with any other claims. */
export function userToken(sub: string, claims: Record<string, unknown> = {}, ttlSeconds = 3600, key: Uint8Array | CryptoKey = new TextEncoder().encode(JWT_SECRET), alg = 'HS256'): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(key)
}

/** Sends a hello with `token` (and `presence` topics); resolves with the welcome. */
export async function helloWithToken(c: RawClient, token: string | undefined, subs: Subs = { '@inbox': null }, presence?: string[]): Promise<Welcome> {
  const from = c.frames.length
  c.send({ t: 'hello', v: 1, instance: `raw-${Math.random()}`, attempt: 1, subs, ...(token ? { token } : {}), ...(presence ? { presence } : {}) })
  c.welcome = await c.next<Welcome>((f) => f.t === 'welcome', 5_000, from)
  return c.welcome
}
