/**
 * A backend's view of a real `lifeline dev` cluster (node processes, the balancer, the supervisor's store; run
 * `npm run build` first): JWT auth, the API keys and the webhooks reach every node; the HTTP API answers through
 * the balancer's port (the admin API stays there); presence survives a SIGKILL of the session's node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createClient, type LifelineClient, type Message, type PresenceEvent } from '@lifeline/sdk'
import { createServerApi } from '../src/api/client.js'
import { startCluster, type Cluster } from '../src/cluster/index.js'
import { API_KEY, JWT_SECRET, userToken } from './support/tokens.js'
import { waitFor } from './support/wait.js'

let cluster: Cluster
const clients: LifelineClient[] = []
beforeAll(async () => {
  cluster = await startCluster({ nodes: 2, auth: { jwt: { secret: JWT_SECRET } }, apiKeys: [API_KEY], log: () => {} })
})
afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await cluster?.stop()
})
const sdk = (user: string) => {
  const c = createClient({ url: cluster.url, WebSocket, token: () => userToken(user), backoff: { minMs: 20, maxMs: 200 } })
  clients.push(c)
  return c
}
const httpUrl = () => cluster.url.replace(/^ws/, 'http')

describe('a cluster with auth and API keys', () => {
  it('answers the HTTP API through the balancer (idempotent publish: 3 tries, 1 message); the admin API stays on the balancer', async () => {
    const reader = sdk('reader')
    const seen: Message[] = []
    reader.on('message', (m) => seen.push(m))
    await reader.subscribe('news')
    const api = createServerApi({ url: httpUrl(), apiKey: API_KEY })
    const answers = [await api.publish('news', 'hi', { idempotencyKey: 'k1' }), await api.publish('news', 'hi', { idempotencyKey: 'k1' }), await api.publish('news', 'hi', { idempotencyKey: 'k1' })]
    expect(new Set(answers.map((a) => a.offset)).size).toBe(1)
    await api.publish('news', 'marker')
    await waitFor(() => seen.length === 2, 'the message and the marker')
    expect(seen.map((m) => m.data)).toEqual(['hi', 'marker'])
    const unauthorized = await fetch(`${httpUrl()}/_lifeline/v1/presence?topic=news`)
    expect([unauthorized.status, ((await unauthorized.json()) as { error: { code: string } }).error.code]).toEqual([401, 'UNAUTHORIZED'])
    expect((await fetch(`${httpUrl()}/_lifeline/api/nodes`)).status).toBe(200)
    // A client without a token is refused by every node.
    const open = createClient({ url: cluster.url, WebSocket, backoff: { minMs: 20, maxMs: 50 } })
    clients.push(open)
    const refused = await open.subscribe('news').catch((e: { code: string }) => e.code)
    expect(refused).toBe('CONNECTION_REFUSED')
  })

  it('keeps a user present through a SIGKILL of their node: no leave, no second join, still one session', async () => {
    const alice = sdk('alice')
    await alice.subscribe('room')
    const victim = cluster.nodeOf(alice.sessionId!)!
    // A watcher on the other node, so it lives through the kill.
    let watcher: LifelineClient | undefined
    const events: PresenceEvent[] = []
    for (let i = 0; i < 6 && !watcher; i++) {
      const w = sdk('watcher')
      await w.subscribe('room', { presence: true })
      if (cluster.nodeOf(w.sessionId!) !== victim) watcher = w
    }
    expect(watcher).toBeDefined()
    watcher!.on('presence', (e) => e.user === 'alice' && events.push(e))
    const api = createServerApi({ url: httpUrl(), apiKey: API_KEY })
    expect((await api.presence('room')).users).toContainEqual({ user: 'alice', sessions: 1 })
    const session = alice.sessionId
    await cluster.kill(victim)
    await waitFor(() => alice.state === 'open' && cluster.nodeOf(alice.sessionId!) !== undefined && cluster.nodeOf(alice.sessionId!) !== victim, 'alice resumed on the other node', 15_000)
    expect(alice.sessionId).toBe(session)
    // Ordered after anything the resume could have announced: alice's publish reaches the watcher last.
    const seen: unknown[] = []
    watcher!.on('message', (m) => seen.push(m.data))
    await alice.publish('room', 'back')
    await waitFor(() => seen.includes('back'), "alice's message at the watcher")
    expect(events).toEqual([])
    expect((await api.presence('room')).users).toContainEqual({ user: 'alice', sessions: 1 })
    console.log(`presence across a SIGKILL of ${victim}: alice resumed session ${session}; 0 leave/join events, 1 session listed`)
  })
})
