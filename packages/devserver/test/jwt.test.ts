/**
 * Users' tokens, verified with jose (security/jwt.ts), and what their claims allow (node/core/identity.ts):
 * HS256, ES256 and RS256 keys (PEM and JWK), and each way a token is refused, with the reason a developer reads.
 */
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { allows, mayPublish, maySubscribe, type Identity } from '../src/node/core/identity.js'
import { createVerifier } from '../src/security/jwt.js'
import { apiKeyMatcher, parseApiKeys } from '../src/security/api-keys.js'

const SECRET = 'a-test-secret-of-at-least-32-bytes!!'
const hs = new TextEncoder().encode(SECRET)
const now = () => Math.floor(Date.now() / 1000)
function sign(claims: Record<string, unknown>, key: Uint8Array | CryptoKey = hs, alg = 'HS256'): Promise<string> {
  const t = new SignJWT(claims).setProtectedHeader({ alg }).setIssuedAt()
  return t.sign(key)
}

let es: { publicKey: CryptoKey; privateKey: CryptoKey }
let rs: { publicKey: CryptoKey; privateKey: CryptoKey }
beforeAll(async () => {
  es = await generateKeyPair('ES256', { extractable: true })
  rs = await generateKeyPair('RS256', { extractable: true })
})

describe('jwt verifier', () => {
  it('HS256: accepts a good token with its identity; refuses a wrong key, an expired one, a wrong issuer, no sub', async () => {
    const verify = createVerifier({ jwt: { secret: SECRET, issuer: 'https://app.example' } })
    const good = await verify(await sign({ sub: 'alice', exp: now() + 60, iss: 'https://app.example', topics: { subscribe: ['room:*'] } }))
    expect(good).toMatchObject({ ok: true, identity: { user: 'alice', topics: { subscribe: ['room:*'] }, claims: { sub: 'alice' } } })
    const other = new TextEncoder().encode('another-secret-of-at-least-32-bytes!!')
    const refusals = {
      wrongKey: await verify(await sign({ sub: 'alice', iss: 'https://app.example' }, other)),
      expired: await verify(await sign({ sub: 'alice', iss: 'https://app.example', exp: now() - 10 })),
      wrongIssuer: await verify(await sign({ sub: 'alice', iss: 'https://evil.example' })),
      noSub: await verify(await sign({ iss: 'https://app.example' })),
      badTopics: await verify(await sign({ sub: 'a', iss: 'https://app.example', topics: { subscribe: 'room:*' } })),
      garbage: await verify('not.a.jwt'),
    }
    expect(Object.fromEntries(Object.entries(refusals).map(([k, v]) => [k, v.ok ? 'accepted' : v.reason]))).toEqual({
      wrongKey: 'bad signature (not signed with the key this server has)',
      expired: 'expired (exp is in the past)',
      wrongIssuer: 'wrong issuer (iss "https://evil.example")',
      noSub: 'no sub claim (the user id is required)',
      badTopics: 'topics claim malformed (expected { subscribe?: string[], publish?: string[] })',
      garbage: 'malformed (not a signed JWT)',
    })
  })

  it('ES256 with a PEM or a JWK public key; a token of another key or algorithm is refused', async () => {
    const pem = createVerifier({ jwt: { publicKey: await exportSPKI(es.publicKey) } })
    const jwk = createVerifier({ jwt: { publicKey: (await exportJWK(es.publicKey)) as never, audience: 'chat' } })
    const token = await sign({ sub: 'bob', aud: 'chat', exp: now() + 60 }, es.privateKey, 'ES256')
    expect(await pem(token)).toMatchObject({ ok: true, identity: { user: 'bob' } })
    expect(await jwk(token)).toMatchObject({ ok: true, identity: { user: 'bob' } })
    expect(await jwk(await sign({ sub: 'bob', aud: 'other' }, es.privateKey, 'ES256'))).toMatchObject({ ok: false, reason: 'wrong audience (aud "other")' })
    const stranger = await generateKeyPair('ES256')
    expect(await pem(await sign({ sub: 'bob' }, stranger.privateKey, 'ES256'))).toMatchObject({ ok: false, reason: expect.stringMatching(/^bad signature/) })
    // Algorithm confusion: an HS256 token "signed" with the public key's PEM text must not pass.
    const confused = await sign({ sub: 'mallory' }, new TextEncoder().encode(await exportSPKI(es.publicKey)))
    expect(await pem(confused)).toMatchObject({ ok: false, reason: 'algorithm not allowed (this server takes ES256)' })
  })

  it('RS256 with a PEM key', async () => {
    const verify = createVerifier({ jwt: { publicKey: await exportSPKI(rs.publicKey) } })
    expect(await verify(await sign({ sub: 'carol' }, rs.privateKey, 'RS256'))).toMatchObject({ ok: true, identity: { user: 'carol' } })
  })

  it('refuses options it cannot use, naming them', () => {
    expect(() => createVerifier({ jwt: {} })).toThrow(/exactly one of `secret`/)
    expect(() => createVerifier({ jwt: { secret: 's', publicKey: 'k' } })).toThrow(/exactly one/)
    expect(() => createVerifier({ jwt: { publicKey: 'not a key' } })).toThrow(/auth.jwt.publicKey: not a PEM or JWK/)
  })
})

describe('topic rights', () => {
  const who = (topics?: Identity['topics']): Identity => ({ user: 'u', claims: {}, ...(topics ? { topics } : {}) })

  it('a trailing * matches any suffix; a list the claim leaves out allows nothing; no claim allows everything', () => {
    expect(allows(['room:*'], 'room:1')).toBe(true)
    expect(allows(['room:*'], 'room:')).toBe(true)
    expect(allows(['room:*'], 'room')).toBe(false)
    expect(allows(['room:*'], 'xroom:1')).toBe(false)
    expect(allows(['news'], 'news')).toBe(true)
    expect(allows(['news'], 'news2')).toBe(false)
    expect(allows(['*'], 'anything')).toBe(true)
    expect(maySubscribe(who({ publish: ['a'] }), 'a')).toBe(false)
    expect(mayPublish(who({ publish: ['a'] }), 'a')).toBe(true)
    expect(maySubscribe(who({ subscribe: [] }), '@inbox')).toBe(true) // the session's own, always
    expect(maySubscribe(who(), 'x') && mayPublish(who(), 'x') && maySubscribe(undefined, 'x')).toBe(true)
  })
})

describe('api keys', () => {
  it('matches only configured keys, in constant time, and refuses short ones at start', () => {
    const match = apiKeyMatcher(parseApiKeys(' key-one-0123456789 , ,key-two-0123456789'))
    expect([match('key-one-0123456789'), match('key-two-0123456789'), match('key-one-012345678'), match('')]).toEqual([true, true, false, false])
    expect(() => apiKeyMatcher(['short'])).toThrow(/at least 16 characters/)
    expect(apiKeyMatcher([])('anything')).toBe(false)
  })
})
