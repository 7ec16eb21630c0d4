/**
 * The HTTP API behind a real HAProxy running examples/haproxy/haproxy.cfg (its `api` backend), in front of two
 * standalone node processes on a real Redis, with the API key from the environment and users' ES256 tokens
 * verified with a public key file (`--jwt-public-key FILE`), as a deployment would set them: idempotent publish retried through HAProxy (one message), history, presence and disconnect
 * of users connected through HAProxy, and a publish that still lands once after a SIGKILL of a node.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exportSPKI, generateKeyPair, type CryptoKey } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CloseCode } from '@lifeline/protocol'
import { createServerApi } from '../src/api/client.js'
import { RawClient } from './fixtures/raw-client.js'
import { startHaproxy, startStandaloneNode, type Haproxy, type StandaloneNode } from './support/haproxy.js'
import { startRedisServer, type RedisServer } from './support/redis-server.js'
import { API_KEY, helloWithToken, userToken } from './support/tokens.js'
import { waitFor } from './support/wait.js'

let redis: RedisServer
let nodes: StandaloneNode[] = []
let haproxy: Haproxy
let signing: CryptoKey
let keyDir: string
const raws: RawClient[] = []
beforeAll(async () => {
  redis = await startRedisServer()
  const pair = await generateKeyPair('ES256')
  signing = pair.privateKey
  keyDir = await mkdtemp(join(tmpdir(), 'lifeline-jwt-'))
  const keyFile = join(keyDir, 'public.pem')
  await writeFile(keyFile, await exportSPKI(pair.publicKey))
  const extra = { env: { LIFELINE_API_KEYS: API_KEY }, args: ['--jwt-public-key', keyFile] }
  const started = await Promise.allSettled([1, 2].map((i) => startStandaloneNode(`api${i}`, redis.url, 'api-haproxy-secret', extra)))
  nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  const failed = started.find((r) => r.status === 'rejected')
  if (failed) throw failed.reason
  haproxy = await startHaproxy(nodes.map((n) => n.address))
})
afterAll(async () => {
  for (const c of raws) c.close()
  await haproxy?.stop()
  await Promise.all(nodes.map((n) => n.stop()))
  await redis?.close()
  if (keyDir) await rm(keyDir, { recursive: true, force: true })
})

const api = () => createServerApi({ url: `http://127.0.0.1:${haproxy.port}`, apiKey: API_KEY, retries: 4 })
async function user(sub: string, subs: Record<string, null>): Promise<RawClient> {
  // Retried as the SDK would: right after HAProxy starts, before its checks marked the config's absent third
  // server down, an upgrade routed there fails (502 / hang-up) rather than being redispatched.
  let c: RawClient | undefined
  await waitFor(async () => (c = await RawClient.connect(haproxy.url).catch(() => undefined)) !== undefined, 'an upgrade through HAProxy', 10_000, 100)
  raws.push(c!)
  await helloWithToken(c!, await userToken(sub, {}, 3600, signing, 'ES256'), { '@inbox': null, ...subs })
  return c!
}

describe('the HTTP API behind HAProxy (examples/haproxy/haproxy.cfg)', () => {
  it('publishes once per idempotencyKey however often it is retried, and reads it back', async () => {
    const reader = await user('reader', { alerts: null })
    await reader.next((f) => f.t === 'subscribed')
    const answers = await Promise.all([1, 2, 3].map(() => api().publish('alerts', { level: 'high' }, { idempotencyKey: 'alert-1' })))
    expect(new Set(answers.map((a) => `${a.epoch}/${a.offset}`)).size).toBe(1)
    const history = await api().history('alerts', { from: 'earliest' })
    expect(history.messages.map((m) => m.data)).toEqual([{ level: 'high' }])
    await reader.until(() => reader.msgs('alerts').length === 1)
    await api().publish('alerts', 'marker')
    await reader.until(() => reader.msgs('alerts').length === 2)
    expect(reader.msgs('alerts').map((m) => m.data)).toEqual([{ level: 'high' }, 'marker'])
  })

  it('lists presence and disconnects a user, whichever node their connection went to', async () => {
    const [a1, a2] = [await user('alice', { lobby: null }), await user('alice', { lobby: null })]
    const bob = await user('bob', { lobby: null })
    await waitFor(async () => (await api().presence('lobby')).users.length === 2, 'alice and bob present')
    expect((await api().presence('lobby')).users).toEqual([{ user: 'alice', sessions: 2 }, { user: 'bob', sessions: 1 }])
    expect(await api().disconnect('alice')).toEqual({ closed: 2 })
    for (const c of [a1, a2]) expect((await c.closed).code).toBe(CloseCode.DISCONNECTED)
    expect(bob.closedAt).toBeUndefined()
  })

  it('still publishes once after a SIGKILL of a node: HAProxy retries the refused connection on the other', async () => {
    const victim = nodes[0]!
    await victim.stop('SIGKILL')
    const results = []
    for (let i = 0; i < 5; i++) results.push(await api().publish('after-kill', i, { idempotencyKey: `after-kill-${i}` }))
    expect(results.map((r) => r.offset)).toEqual([1, 2, 3, 4, 5])
    expect((await api().history('after-kill', { from: 'earliest' })).messages.map((m) => m.data)).toEqual([0, 1, 2, 3, 4])
  })
})
