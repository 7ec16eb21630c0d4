/** The node's pure parts: tokens, flags, the rate limiter, the subscriptions' SmallMap. No sockets. */
import { describe, expect, it } from 'vitest'
import { newSessionId, signSession, verifyToken } from '../src/security/token.js'
import { parseNodeArgs } from '../src/node/args.js'
import { TokenBucket } from '../src/node/core/rate-limit.js'
import { Liveness } from '../src/node/core/liveness.js'
import { SmallMap } from '../src/node/core/small-map.js'

describe('session tokens', () => {
  it('verify only with the secret that signed them', () => {
    const id = newSessionId()
    const token = signSession('k1', id, 12345)
    expect(token.startsWith(`${id}.12345.`)).toBe(true)
    expect(verifyToken('k1', token)).toEqual({ session: id, generation: 12345 })
    expect(verifyToken('k2', token)).toBeNull()
  })

  it('refuse tampered, truncated and malformed tokens', () => {
    const token = signSession('k', 'abc', 7)
    const mac = token.slice(6)
    const flipped = (mac[0] === 'A' ? 'B' : 'A') + mac.slice(1)
    const forms = [`abd.7.${mac}`, `abc.8.${mac}`, `abc.07.${mac}`, `abc.7.${flipped}`, `abc.7.${mac.slice(1)}`, `abc.${mac}`]
    for (const bad of [...forms, 'abc', '.x', 'abc.', '', `abc.7.${mac}=`, `abc.-7.${mac}`, `abc.1e3.${mac}`]) {
      expect(verifyToken('k', bad)).toBeNull()
    }
  })

  it('makes distinct, URL-safe session ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, newSessionId))
    expect(ids.size).toBe(1000)
    for (const id of ids) expect(id).toMatch(/^[\w-]{22}$/)
  })
})

describe('lifeline node flags', () => {
  it('parses every flag, and LIFELINE_SECRET as the secret', () => {
    const args = parseNodeArgs(
      ['--id', 'n1', '--port', '4321', '--host', '0.0.0.0', '--store', 'memory', '--heartbeat-ms', '100', '--timeout-ms', '300', '--session-ttl-ms', '1000', '--drain-timeout-ms', '50', '--max-frame-bytes', '4096'],
      { LIFELINE_SECRET: 'from-env' },
    )
    expect(args).toEqual({
      id: 'n1',
      port: 4321, // only parsed, never bound
      host: '0.0.0.0',
      store: 'memory',
      secret: 'from-env',
      options: { heartbeatMs: 100, timeoutMs: 300, sessionTtlMs: 1000, drainTimeoutMs: 50, maxFrameBytes: 4096 },
    })
    expect(parseNodeArgs(['--secret', 'flag'], { LIFELINE_SECRET: 'env' }).secret).toBe('flag')
  })

  it('parses the backend flags, and keys and JWT secrets from the environment', () => {
    const env = { LIFELINE_API_KEYS: 'env-key-0123456789abc, other-key-0123456789', LIFELINE_JWT_SECRET: 'from-env' }
    const args = parseNodeArgs(['--api-key', 'flag-key-0123456789ab', '--jwt-issuer', 'app', '--on-connect', 'http://backend/connect', '--on-send', 'https://backend/send', '--webhook-timeout-ms', '800'], env)
    expect(args.options).toMatchObject({
      apiKeys: ['env-key-0123456789abc', 'other-key-0123456789', 'flag-key-0123456789ab'],
      auth: { jwt: { secret: 'from-env', issuer: 'app' } },
      webhooks: { connect: 'http://backend/connect', send: 'https://backend/send', timeoutMs: 800 },
    })
    expect(parseNodeArgs(['--jwt-public-key', '/keys/pub.pem'], {})).toMatchObject({ jwtPublicKeyFile: '/keys/pub.pem', options: { auth: { jwt: {} } } })
    expect(parseNodeArgs([], {}).options.auth).toBeUndefined()
    expect(() => parseNodeArgs(['--on-send', 'ftp://x'], {})).toThrow(/--on-send: expected an http/)
    expect(() => parseNodeArgs(['--jwt-issuer', 'app'], {})).toThrow(/need --jwt-secret or --jwt-public-key/)
  })

  it('refuses unknown flags, missing values and bad numbers with a message naming them', () => {
    expect(() => parseNodeArgs(['--nope', '1'], {})).toThrow(/unknown flag --nope/)
    expect(() => parseNodeArgs(['--port'], {})).toThrow(/--port needs a value/)
    expect(() => parseNodeArgs(['--port', '70000'], {})).toThrow(/--port: expected an integer from 0 to 65535/)
    expect(() => parseNodeArgs(['--timeout-ms', '0'], {})).toThrow(/--timeout-ms/)
  })
})

describe('token bucket', () => {
  it('allows a burst, then the sustained rate', () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 5 }, 0)
    const taken = Array.from({ length: 8 }, () => bucket.take(0)).filter(Boolean).length
    expect(taken).toBe(5)
    expect(bucket.take(50)).toBe(false) // half a token refilled
    expect(bucket.take(100)).toBe(true)
    expect(bucket.take(100)).toBe(false)
    expect(Array.from({ length: 10 }, () => bucket.take(10_000)).filter(Boolean).length).toBe(5)
  })
})

describe('liveness (when a client counts as silent)', () => {
  it('a frame is a sign of life', () => {
    const l = new Liveness(0)
    expect(l.silentFor(4_000)).toBe(4_000)
    l.frame(4_000)
    expect(l.silentFor(9_000)).toBe(5_000)
  })

  it('a backlog that drains is a sign of life: a client behind on a busy stream, reading, is not silent', () => {
    const l = new Liveness(0)
    const backlog = [900_000, 700_000, 500_000, 300_000, 100_000, 0]
    backlog.forEach((bytes, i) => l.output(i * 2_000, bytes))
    expect(l.silentFor(10_000)).toBe(0)
  })

  it('a backlog that stays or grows is not: a dead peer reads nothing', () => {
    const l = new Liveness(0)
    for (const [t, bytes] of [[2_000, 500_000], [4_000, 500_000], [6_000, 800_000]] as const) l.output(t, bytes)
    expect(l.silentFor(6_000)).toBe(6_000)
    // Nothing queued at all gives no sign either way: only a frame (the pong) counts then.
    const idle = new Liveness(0)
    idle.output(3_000, 0)
    expect(idle.silentFor(6_000)).toBe(6_000)
  })
})

describe('SmallMap', () => {
  it('answers as a Map would over 20,000 seeded operations on few keys (size, has, get, set, delete, keys in order)', () => {
    let seed = 12_345
    const next = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed % n
    }
    let small = new SmallMap<string, number>()
    let map = new Map<string, number>()
    for (let i = 0; i < 20_000; i++) {
      const key = `t${next(4)}`
      const op = next(10)
      if (op < 4) {
        expect(small.set(key, i)).toBe(small)
        map.set(key, i)
      } else if (op < 7) expect(small.delete(key)).toBe(map.delete(key))
      else if (op < 9) expect([small.has(key), small.get(key)]).toEqual([map.has(key), map.get(key)])
      else if (next(50) === 0) {
        // Now and then a fresh pair, so the one-entry fields are exercised again, not only the Map.
        small = new SmallMap()
        map = new Map()
      }
      expect(small.size).toBe(map.size)
      expect([...small.keys()]).toEqual([...map.keys()])
    }
  })
})
