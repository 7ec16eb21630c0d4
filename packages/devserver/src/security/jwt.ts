/**
 * Users' tokens: JWTs signed by the app's backend, verified here with `jose` (not by hand: JWT verification has
 * many ways to go wrong: algorithm confusion, `none`, claim checks). The node's adapter (node/socket.ts) calls
 * the verifier for every hello and every `auth` refresh, and hands the core the result (core/identity.ts).
 *
 * Keys: `secret` for HS256 (the backend signs with the same secret), or `publicKey` for RS256 / ES256 (the
 * backend signs with its private key; a PEM `-----BEGIN PUBLIC KEY-----` or a JWK). Only the algorithm the key
 * is for is accepted (HS256 for a secret, RS256 for an RSA key, ES256/384/512 by the EC key's curve), so a token
 * cannot choose a weaker algorithm, or `none`.
 *
 * Claims: `sub` is required (the user id); `exp` is checked when present (a token without one never expires;
 * backends should set one); `iss` / `aud` when the options name them; `topics` (core/identity.ts) when present
 * must be `{ subscribe?: string[], publish?: string[] }`.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { errors, jwtVerify } from 'jose'
import type { Identity, TopicRights, Verified } from '../node/core/identity.js'

export interface JwtOptions {
  /** HS256: the secret the backend signs with. */
  secret?: string
  /** RS256 / ES256: the backend's public key, as PEM text or a JWK (object, or its JSON text). */
  publicKey?: string | JsonWebKey
  /** Accept only tokens whose `iss` is this (or one of these). Default: any. */
  issuer?: string | string[]
  /** Accept only tokens whose `aud` includes this (or one of these). Default: any. */
  audience?: string | string[]
}

/** `createNode({ auth })`: how a hello proves who the user is. */
export interface AuthOptions {
  jwt: JwtOptions
}

export type Verifier = (token: string) => Promise<Verified>

/** A verifier for `options`; throws a TypeError naming the option when the key cannot be used. */
export function createVerifier(options: AuthOptions): Verifier {
  const o = options?.jwt
  if (!o || (o.secret === undefined) === (o.publicKey === undefined)) {
    throw new TypeError('auth.jwt: give exactly one of `secret` (HS256) or `publicKey` (RS256/ES256, PEM or JWK)')
  }
  const { key, algorithms } = o.secret !== undefined ? secretKey(o.secret) : publicKey(o.publicKey!)
  const checks = { algorithms, ...(o.issuer !== undefined ? { issuer: o.issuer } : {}), ...(o.audience !== undefined ? { audience: o.audience } : {}) }
  return async (token) => {
    let payload: Record<string, unknown>
    try {
      payload = (await jwtVerify(token, key, checks)).payload
    } catch (e) {
      return { ok: false, reason: refusal(e, algorithms) }
    }
    return identityOf(payload)
  }
}

function secretKey(secret: string): { key: Uint8Array; algorithms: string[] } {
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('auth.jwt.secret: expected a non-empty string')
  return { key: new TextEncoder().encode(secret), algorithms: ['HS256'] }
}

function publicKey(input: string | JsonWebKey): { key: KeyObject; algorithms: string[] } {
  let key: KeyObject
  try {
    if (typeof input !== 'string') key = createPublicKey({ key: input, format: 'jwk' })
    else if (input.trim().startsWith('{')) key = createPublicKey({ key: JSON.parse(input) as JsonWebKey, format: 'jwk' })
    else key = createPublicKey(input)
  } catch (e) {
    throw new TypeError(`auth.jwt.publicKey: not a PEM or JWK public key (${(e as Error).message})`)
  }
  if (key.type !== 'public') throw new TypeError('auth.jwt.publicKey: this is a private key; give the public one')
  if (key.asymmetricKeyType === 'rsa') return { key, algorithms: ['RS256'] }
  const curve = key.asymmetricKeyDetails?.namedCurve
  const alg = key.asymmetricKeyType === 'ec' ? { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }[curve ?? ''] : undefined
  if (!alg) throw new TypeError(`auth.jwt.publicKey: a ${key.asymmetricKeyType} key${curve ? ` on ${curve}` : ''}; use RSA (RS256) or EC P-256 (ES256)`)
  return { key, algorithms: [alg] }
}

/** What was wrong with the token, in words a developer can act on (the client sees it in the close reason). */
function refusal(e: unknown, algorithms: string[]): string {
  if (e instanceof errors.JWTExpired) return 'expired (exp is in the past)'
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'bad signature (not signed with the key this server has)'
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'iss') return `wrong issuer (iss ${JSON.stringify(e.payload.iss)})`
    if (e.claim === 'aud') return `wrong audience (aud ${JSON.stringify(e.payload.aud)})`
    if (e.claim === 'nbf') return 'not valid yet (nbf is in the future)'
    return `claim ${e.claim}: ${e.reason}`
  }
  if (e instanceof errors.JOSEAlgNotAllowed) return `algorithm not allowed (this server takes ${algorithms.join(', ')})`
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) return 'malformed (not a signed JWT)'
  return `invalid (${(e as Error)?.message ?? String(e)})`
}

function identityOf(claims: Record<string, unknown>): Verified {
  const sub = claims.sub
  if (typeof sub !== 'string' || sub.length === 0) return { ok: false, reason: 'no sub claim (the user id is required)' }
  const topics = topicsOf(claims.topics)
  if (topics === null) return { ok: false, reason: 'topics claim malformed (expected { subscribe?: string[], publish?: string[] })' }
  const identity: Identity = { user: sub, claims }
  if (typeof claims.exp === 'number') identity.exp = claims.exp
  if (topics) identity.topics = topics
  return { ok: true, identity }
}

/** undefined: no claim (every topic); null: a claim of the wrong shape. */
function topicsOf(value: unknown): TopicRights | undefined | null {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const rights: TopicRights = {}
  for (const kind of ['subscribe', 'publish'] as const) {
    const list = (value as Record<string, unknown>)[kind]
    if (list === undefined) continue
    if (!Array.isArray(list) || !list.every((p) => typeof p === 'string')) return null
    rights[kind] = list as string[]
  }
  return rights
}
