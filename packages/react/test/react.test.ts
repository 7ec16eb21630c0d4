// @vitest-environment happy-dom
/**
 * @lifeline/react against a real node (in process, on a free port) in a DOM (happy-dom), rendered with
 * react-dom/client and act: one socket per provider under StrictMode, none during server rendering, a topic's
 * feed (replay, live, bounded, shared, gap, failure), publishing, the connection state, presence. Messages are counted
 * with the shared ledger.
 */
import { createElement as h, StrictMode, type ReactNode } from 'react'
import { act } from 'react'
import { createRoot, type Root } from 'react-dom/client'
import { renderToString } from 'react-dom/server'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { SignJWT } from 'jose'
import { createClient, ErrorCode, type ClientOptions, type WebSocketConstructor } from '@lifeline/sdk'
import { createNode, type LifelineNode } from '../../devserver/src/node/node.js'
import { MemoryStore } from '../../devserver/src/store/memory.js'
import { Ledger, exactlyOnceViolations, countsLine, tagOf, type Tag } from '../../devserver/src/testing/ledger.js'
import { LifelineProvider, useConnectionState, useLifelineClient, usePresence, usePublish, useTopic, type PublishState, type TopicState } from '../src/index.js'

;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

/** ws's WebSocket, counting what it makes: "one socket per provider" is a count. */
let sockets = 0
class CountingWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols)
    sockets++
  }
}
const NodeWebSocket = CountingWebSocket as unknown as WebSocketConstructor

const nodes: LifelineNode[] = []
const roots: Root[] = []
const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const root of roots.splice(0)) act(() => root.unmount())
  // The provider closes its client a task after unmount (hub.ts `later`, for StrictMode); wait for it, or a retry
  // of this test's client could open a socket that the next test counts as its own. A 0 ms timer set now runs
  // after the hub's (timers of equal delay run in the order they were set).
  await new Promise((r) => setTimeout(r, 0))
  await Promise.all(closers.splice(0).map((c) => c()))
  await Promise.all(nodes.splice(0).map((n) => n.close()))
  sockets = 0
})

async function startNode(store = new MemoryStore()): Promise<LifelineNode> {
  const node = await createNode({ port: 0, store })
  nodes.push(node)
  return node
}
const options = (node: LifelineNode): ClientOptions => ({ url: node.url, WebSocket: NodeWebSocket, backoff: { minMs: 10, maxMs: 50 } })

async function render(element: ReactNode): Promise<Root> {
  const root = createRoot(document.createElement('div'))
  roots.push(root)
  await act(async () => root.render(element))
  return root
}

/** Lets React and the network run until `predicate` holds (bounded), failing with `what`. */
async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await act(async () => new Promise((resolve) => setTimeout(resolve, 10)))
  }
}

/** Renders `use()` in a component and keeps its latest value. */
function probe<V>(use: () => V): { current: V | undefined; Probe: () => null } {
  const p: { current: V | undefined; Probe: () => null } = {
    current: undefined,
    Probe: () => {
      p.current = use()
      return null
    },
  }
  return p
}

const offsets = (t: TopicState | undefined) => t?.messages.map((m) => m.offset) ?? []

describe('LifelineProvider', () => {
  it('StrictMode mounts it twice: one WebSocket for the provider; unmounting closes that client', async () => {
    const node = await startNode()
    const state = probe(useConnectionState)
    const client = probe(useLifelineClient)
    const feed = probe(() => useTopic('strict'))
    const root = await render(h(StrictMode, null, h(LifelineProvider, { options: options(node) }, h(state.Probe), h(client.Probe), h(feed.Probe))))
    await until(() => state.current === 'open' && feed.current?.status === 'live', 'open and subscribed')
    expect(sockets).toBe(1)
    expect(node.connections).toBe(1)
    const made = client.current!
    act(() => root.unmount())
    roots.splice(roots.indexOf(root), 1)
    await until(() => made.state === 'closed', 'the client closed after the unmount')
    expect(sockets).toBe(1)
  })

  it('server-side rendering creates no WebSocket and renders the initial states', async () => {
    const node = await startNode()
    function App(): ReactNode {
      const state = useConnectionState()
      const feed = useTopic('ssr', { from: 'earliest' })
      const { pending } = usePublish('ssr')
      return h('p', null, `${state} ${feed.status} ${feed.messages.length} ${pending}`)
    }
    const html = renderToString(h(StrictMode, null, h(LifelineProvider, { options: options(node) }, h(App))))
    expect(html).toBe('<p>connecting subscribing 0 0</p>')
    await new Promise((resolve) => setTimeout(resolve, 50)) // a deferred effect would have run by now
    expect(sockets).toBe(0)
    expect(node.connections).toBe(0)
  })
})

describe('useTopic', () => {
  it("from 'earliest': the retained log, then live, each once and in order, the newest `limit` kept", async () => {
    const node = await startNode()
    const ledger = new Ledger()
    for (let n = 1; n <= 30; n++) ledger.sent('feed', { stream: 's', n }), await node.publish('feed', { stream: 's', n })
    const feed = probe(() => useTopic<Tag>('feed', { from: 'earliest', limit: 25 }))
    await render(h(LifelineProvider, { options: options(node) }, h(feed.Probe)))
    await until(() => feed.current?.status === 'live', 'subscribed')
    for (let n = 31; n <= 40; n++) ledger.sent('feed', { stream: 's', n }), await node.publish('feed', { stream: 's', n })
    await until(() => offsets(feed.current).at(-1) === 40, 'the live messages')
    expect(offsets(feed.current)).toEqual(Array.from({ length: 25 }, (_, i) => 16 + i))
    ledger.reads('reader', 'feed', { from: { s: 16 } }) // what a buffer of 25 must hold at the end
    for (const m of feed.current!.messages) ledger.received({ reader: 'reader', topic: m.topic, epoch: m.epoch, offset: m.offset, ...(tagOf(m.data) as Tag) })
    const counts = ledger.counts({ reader: 'reader' })
    console.log(countsLine('react-useTopic-earliest', counts))
    expect(exactlyOnceViolations(counts)).toEqual([])
    expect(feed.current!.gap).toBeNull()
  })

  it('components on one topic share one subscription and one buffer; it ends when the last one unmounts', async () => {
    const node = await startNode()
    const client = createClient({ ...options(node) })
    closers.push(() => client.close())
    const calls: string[] = []
    const { subscribe, unsubscribe } = client
    client.subscribe = (topic, o) => (calls.push(`sub ${topic} ${o?.from ?? ''}`), subscribe.call(client, topic, o))
    client.unsubscribe = (topic) => (calls.push(`unsub ${topic}`), unsubscribe.call(client, topic))
    const a = probe(() => useTopic('shared', { from: 'earliest' }))
    const b = probe(() => useTopic('shared'))
    await node.publish('shared', 'one')
    function Both({ showB }: { showB: boolean }): ReactNode {
      return h('div', null, h(a.Probe), showB ? h(b.Probe) : null)
    }
    const root = await render(h(StrictMode, null, h(LifelineProvider, { client }, h(Both, { showB: false }))))
    await until(() => offsets(a.current).length === 1, "a's replay")
    await act(async () => root.render(h(StrictMode, null, h(LifelineProvider, { client }, h(Both, { showB: true })))))
    expect(offsets(b.current)).toEqual([1]) // what the shared buffer holds, at once
    await node.publish('shared', 'two')
    await until(() => offsets(b.current).length === 2 && offsets(a.current).length === 2, 'both got the live one')
    expect(calls).toEqual(['sub shared earliest'])
    act(() => root.unmount())
    roots.splice(roots.indexOf(root), 1)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(calls).toEqual(['sub shared earliest', 'unsub shared'])
    expect(client.state).toBe('open') // the app's own client: the provider never closes it
  })

  it('reports a gap (an offset out of retention) and a failed subscription (status failed, with the error)', async () => {
    const node = await startNode(new MemoryStore({ retention: { maxMessages: 5 } }))
    for (let n = 1; n <= 10; n++) await node.publish('short', n)
    const gone = probe(() => useTopic('short', { from: 2 }))
    const bad = probe(() => useTopic('not a topic'))
    await render(h(LifelineProvider, { options: options(node) }, h(gone.Probe), h(bad.Probe)))
    await until(() => offsets(gone.current).length === 5 && bad.current?.status === 'failed', 'the replay and the refusal')
    expect(gone.current!.gap).toMatchObject({ topic: 'short', reason: 'retention', from: 2, to: 5 })
    expect(offsets(gone.current)).toEqual([6, 7, 8, 9, 10])
    expect(bad.current!.error?.code).toBe(ErrorCode.BAD_FRAME)
  })
})

describe('usePublish and useConnectionState', () => {
  it('publish resolves once applied (pending counts it meanwhile); a rejected one is listed in failed with its code', async () => {
    const node = await startNode()
    const ledger = new Ledger()
    const pub = probe(() => usePublish<unknown>('out'))
    const feed = probe(() => useTopic<Tag>('out'))
    await render(h(LifelineProvider, { options: options(node) }, h(pub.Probe), h(feed.Probe)))
    await until(() => feed.current?.status === 'live', 'subscribed')
    ledger.reads('page', 'out')
    const done: Promise<void>[] = []
    await act(async () => {
      for (let n = 1; n <= 5; n++) {
        ledger.sent('out', { stream: 'p', n })
        done.push((pub.current as PublishState).publish({ stream: 'p', n }).then(() => ledger.settled({ stream: 'p', n }, 'resolved')))
      }
    })
    expect(pub.current!.pending).toBe(5)
    await act(async () => void (await Promise.all(done)))
    await act(async () => void (await (pub.current as PublishState).publish({ n: 1n }).catch(() => {})))
    await until(() => pub.current!.pending === 0 && offsets(feed.current).length === 5, 'acks and deliveries')
    for (const m of feed.current!.messages) ledger.received({ reader: 'page', topic: m.topic, epoch: m.epoch, offset: m.offset, ...(tagOf(m.data) as Tag) })
    const counts = ledger.counts()
    console.log(countsLine('react-usePublish', counts))
    expect(exactlyOnceViolations(counts)).toEqual([])
    expect(pub.current!.failed.map((f) => f.error.code)).toEqual([ErrorCode.NOT_SERIALIZABLE])
  })

  it('useConnectionState follows the client: connecting, open, then reconnecting when its node goes away', async () => {
    const node = await startNode()
    const seen: string[] = []
    const state = probe(() => {
      const s = useConnectionState()
      if (seen.at(-1) !== s) seen.push(s)
      return s
    })
    await render(h(LifelineProvider, { options: options(node) }, h(state.Probe)))
    await until(() => state.current === 'open', 'open')
    await node.close()
    nodes.splice(nodes.indexOf(node), 1)
    await until(() => state.current === 'reconnecting', 'reconnecting')
    expect(seen).toEqual(['connecting', 'open', 'reconnecting'])
  })
})

describe('usePresence', () => {
  it('lists who is in the topic, then follows joins and leaves (users from their tokens)', async () => {
    const secret = 'react-presence-secret'
    const node = await createNode({ port: 0, store: new MemoryStore(), auth: { jwt: { secret } } })
    nodes.push(node)
    const key = new TextEncoder().encode(secret)
    const token = (sub: string) => () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().setExpirationTime('1h').sign(key)
    const bob = createClient({ ...options(node), token: token('bob') })
    closers.push(() => bob.close())
    await bob.subscribe('room')
    const who = probe(() => usePresence('room'))
    const feed = probe(() => useTopic('room'))
    await render(h(LifelineProvider, { options: { ...options(node), token: token('alice') } }, h(feed.Probe), h(who.Probe)))
    await until(() => who.current?.status === 'live' && who.current.users.length === 2, 'alice and bob listed')
    expect(who.current!.users).toEqual([{ user: 'alice', sessions: 1 }, { user: 'bob', sessions: 1 }])
    await bob.unsubscribe('room')
    await until(() => who.current!.users.length === 1, 'bob gone')
    expect(who.current!.users.map((u) => u.user)).toEqual(['alice'])
    await bob.subscribe('room')
    await until(() => who.current!.users.length === 2, 'bob back')
    expect(sockets).toBe(2) // bob's and the provider's: usePresence and useTopic share one subscription, on one socket
  })
})
