/**
 * Presence on a node, through the SDK: who is in a topic (client.presence), `presence` events for a topic
 * subscribed with `{ presence: true }` (a user's first session joining, its last leaving), and a resumed session
 * that neither leaves nor joins again. Across a node kill: cluster-backend.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createClient, type LifelineClient, type PresenceEvent } from '@lifeline/sdk'
import { useNodes } from './support/nodes.js'
import { JWT_SECRET, userToken } from './support/tokens.js'
import { waitFor } from './support/wait.js'

const nodes = useNodes({ auth: { jwt: { secret: JWT_SECRET } } })
const clients: LifelineClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})
const sdk = (url: string, user: string) => {
  const c = createClient({ url, WebSocket, token: () => userToken(user), backoff: { minMs: 10, maxMs: 50 } })
  clients.push(c)
  return c
}

describe('presence', () => {
  it('lists users by session and raises one join per user\'s first session and one leave per last, for presence subscribers only', async () => {
    const node = await nodes.start()
    const watcher = sdk(node.url, 'watcher')
    const events: PresenceEvent[] = []
    watcher.on('presence', (e) => events.push(e))
    await watcher.subscribe('room', { presence: true })
    const deaf = sdk(node.url, 'deaf')
    let deafHeard = 0
    deaf.on('presence', () => deafHeard++)
    await deaf.subscribe('room')

    const [tab1, tab2, bob] = [sdk(node.url, 'alice'), sdk(node.url, 'alice'), sdk(node.url, 'bob')]
    await Promise.all([tab1.subscribe('room'), tab2.subscribe('room'), bob.subscribe('room')])
    await waitFor(() => events.filter((e) => e.joined).length === 4, 'four joins (watcher, deaf, alice, bob)')
    expect(await watcher.presence('room')).toEqual([
      { user: 'alice', sessions: 2 },
      { user: 'bob', sessions: 1 },
      { user: 'deaf', sessions: 1 },
      { user: 'watcher', sessions: 1 },
    ])
    await tab1.unsubscribe('room')
    await waitFor(async () => (await watcher.presence('room')).find((u) => u.user === 'alice')?.sessions === 1, 'alice down to one session')
    await tab2.unsubscribe('room')
    await waitFor(() => events.some((e) => !e.joined), 'a leave')
    await bob.publish('room', 'marker') // ordered after alice's leave at the node: nothing else is coming
    await waitFor(async () => (await watcher.presence('room')).every((u) => u.user !== 'alice'), 'alice gone from the list')
    expect(events.map((e) => `${e.user} ${e.joined ? 'joined' : 'left'}`).sort()).toEqual(['alice joined', 'alice left', 'bob joined', 'deaf joined', 'watcher joined'])
    expect(events.filter((e) => e.user === 'alice').map((e) => e.joined)).toEqual([true, false])
    expect(deafHeard).toBe(0)
  })

  it('a session that reconnects and resumes does not leave and join again', async () => {
    const node = await nodes.start()
    const watcher = sdk(node.url, 'watcher')
    const events: PresenceEvent[] = []
    watcher.on('presence', (e) => e.user === 'alice' && events.push(e))
    await watcher.subscribe('room', { presence: true })
    const alice = sdk(node.url, 'alice')
    await alice.subscribe('room')
    await waitFor(() => events.length === 1, 'alice joined')
    const session = alice.sessionId
    for (let i = 0; i < 3; i++) {
      const states: string[] = []
      const off = alice.on('state', (s) => states.push(s.to))
      alice.reconnect()
      await waitFor(() => states.includes('open'), 'the reconnect')
      off()
    }
    expect(alice.sessionId).toBe(session)
    await alice.publish('room', 'marker')
    expect(await watcher.presence('room')).toContainEqual({ user: 'alice', sessions: 1 })
    expect(events).toEqual([{ topic: 'room', user: 'alice', joined: true }])
  })
})
