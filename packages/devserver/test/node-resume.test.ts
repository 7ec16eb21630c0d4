/**
 * Resume: replay from the client's offset merged with live traffic, with no gap and no duplicate at the seam;
 * an explicit `gap` when the position is out of retention or in another epoch; live streams that skip ahead
 * are filled from the store.
 */
import { describe, expect, it } from 'vitest'
import type { Subscribed } from '@lifeline/protocol'
import { MemoryStore } from '../src/store/memory.js'
import type { Store } from '../src/store/types.js'
import { resumeAt, useNodes } from './support/nodes.js'

const nodes = useNodes({ secret: 's', rateLimit: { perSecond: 100_000, burst: 100_000 } })
const { connect } = nodes

function withLatency<S extends Store>(store: S): S {
  const delay = () => new Promise((r) => setTimeout(r, Math.random() * 3))
  for (const method of ['head', 'read', 'apply'] as const) {
    const inner = (store[method] as (...a: unknown[]) => Promise<unknown>).bind(store)
    ;(store as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      await delay()
      const result = await inner(...args)
      await delay()
      return result
    }
  }
  return store
}

/** Count how a run of offsets departs from exactly `from+1 … to`, in order. */
function audit(offsets: number[], from: number, to: number) {
  const seen = new Set<number>()
  let duplicated = 0
  let outOfOrder = 0
  let prev = from
  for (const o of offsets) {
    if (seen.has(o)) duplicated += 1
    else if (o < prev) outOfOrder += 1
    seen.add(o)
    prev = Math.max(prev, o)
  }
  let lost = 0
  for (let o = from + 1; o <= to; o++) if (!seen.has(o)) lost += 1
  return { lost, duplicated, outOfOrder }
}

describe('node: resume', () => {
  it('replays from an old offset while publishing continues: 0 lost, 0 duplicated, in order', async () => {
    // Store calls take a round trip (as over IPC or to Redis), so live messages land between the live
    // subscribe, the head read and each history read: the seam is really exercised.
    const store = withLatency(new MemoryStore())
    const node = await nodes.start({ store })
    const publisher = await connect(node)
    await publisher.hello({})
    const N = 3_000
    const RESUMES = 6
    let sent = 0
    let acked = 0
    // Keep up to 64 pubs in flight until N are acked, driven by acks (no timers).
    const pump = () => {
      while (sent < N && sent - acked < 64) {
        sent += 1
        publisher.send({ t: 'pub', seq: sent, topic: 'feed', data: sent })
      }
    }
    publisher.ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as { t: string; seq?: number }
      if (f.t === 'ack') {
        acked = f.seq!
        pump()
      }
    })
    pump()

    let reader = await connect(node)
    const welcome = await reader.hello({ feed: null })
    const first = await reader.next<Subscribed>((f) => f.t === 'subscribed')
    let position = { offset: first.offset, epoch: first.epoch }
    const totals = { lost: 0, duplicated: 0, outOfOrder: 0, delivered: 0 }
    for (let r = 0; r <= RESUMES; r++) {
      // Read a while (until the publisher moved on by ~N/RESUMES), then drop the socket and resume from
      // `rewind` messages back: the replay and the live stream overlap at the seam.
      const stopAt = r === RESUMES ? N : Math.min(N, Math.floor(((r + 1) * N) / (RESUMES + 1)))
      await reader.until(() => (reader.msgs('feed').at(-1)?.offset ?? 0) >= stopAt, 15_000)
      const got = reader.msgs('feed').map((m) => m.offset)
      const last = got.at(-1)!
      const counts = audit(got, position.offset, last)
      totals.lost += counts.lost
      totals.duplicated += counts.duplicated
      totals.outOfOrder += counts.outOfOrder
      totals.delivered += got.length
      if (r === RESUMES) break
      reader.close()
      const rewind = 37 * (r + 1)
      position = { offset: Math.max(0, last - rewind), epoch: position.epoch }
      reader = await connect(node)
      const w = await reader.hello({ feed: position }, welcome.session.token)
      expect(w.resumed).toBe(true)
      const sub = await reader.next<Subscribed>((f) => f.t === 'subscribed')
      expect(sub.recovered).toBe(true)
    }
    console.log(`resume seam: ${RESUMES} resumes under ${N} pubs, ${totals.delivered} delivered; lost ${totals.lost}, duplicated ${totals.duplicated}, out of order ${totals.outOfOrder}`)
    expect(totals).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 })
  })

  it('sends gap (retention) when the position fell out of the log, then the rest in order', async () => {
    const store = new MemoryStore({ retention: { maxMessages: 10 } })
    const { c, sub } = await resumeAt(nodes, store, { topic: 'r', messages: 30, offset: 5 })
    expect(sub).toMatchObject({ recovered: false, offset: 30, gap: { reason: 'retention', from: 6, to: 20 } })
    await c.until(() => c.msgs('r').length === 10)
    expect(c.msgs('r').map((m) => m.offset)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30])
  })

  it('sends gap (epoch) when the position is from another epoch of the log', async () => {
    const store = new MemoryStore({ retention: { maxMessages: 10 } })
    const { c, sub } = await resumeAt(nodes, store, { topic: 'e', messages: 12, offset: 40, epoch: 'a-store-that-restarted' })
    expect(sub).toMatchObject({ recovered: false, gap: { reason: 'epoch', from: 1, to: 2 } })
    await c.until(() => c.msgs('e').length === 10)
    expect(c.msgs('e')[0]!.offset).toBe(3)
  })

  it('sends gap (epoch) when the position is past the head (the log lost its tail), then everything retained', async () => {
    const store = new MemoryStore()
    const { c, sub } = await resumeAt(nodes, store, { topic: 'ahead', messages: 5, offset: 9 })
    expect(sub).toMatchObject({ recovered: false, gap: { reason: 'epoch', from: 1, to: 0 } })
    await c.until(() => c.msgs('ahead').length === 5)
    expect(c.msgs('ahead').map((m) => m.offset)).toEqual([1, 2, 3, 4, 5])
  })

  it('recovers fully (recovered: true, no gap) from a position inside the log', async () => {
    const store = new MemoryStore()
    const { c, sub } = await resumeAt(nodes, store, { topic: 'in', messages: 600, offset: 17 }) // more than one read batch
    expect(sub.recovered).toBe(true)
    expect(sub.gap).toBeUndefined()
    await c.until(() => c.msgs('in').length === 583)
    expect(audit(c.msgs('in').map((m) => m.offset), 17, 600)).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0 })
  })

  it('fills from the store when the live stream skips ahead (a node that was frozen, a store reconnect)', async () => {
    const store = new MemoryStore()
    // A store whose live fan-out drops two of every three messages.
    const subscribe = store.subscribe.bind(store)
    store.subscribe = (topic, listener) => subscribe(topic, (m) => m.offset % 3 === 0 && listener(m))
    const node = await nodes.start({ store })
    const c = await connect(node)
    await c.hello({ s: null })
    await c.next((f) => f.t === 'subscribed')
    for (let i = 1; i <= 300; i++) await store.append('s', i)
    await c.until(() => c.msgs('s').length >= 300)
    const counts = audit(c.msgs('s').map((m) => m.offset), 0, 300)
    console.log(`live skip-ahead: 300 appended, 100 pushed live, ${c.msgs('s').length} delivered; lost ${counts.lost}, duplicated ${counts.duplicated}, out of order ${counts.outOfOrder}`)
    expect(counts).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0 })
  })

  it('tells an active subscriber when the log is replaced under it (store restart: new epoch), then goes on', async () => {
    let inner = new MemoryStore()
    const listeners: [string, (m: import('../src/store/types.js').StoredMessage) => void][] = []
    const offs: (() => void)[] = []
    // A store that can "restart": a new MemoryStore behind the same object, its live subscriptions carried over.
    const store: Store = {
      createSession: (...a) => inner.createSession(...a),
      claimSession: (...a) => inner.claimSession(...a),
      touchSession: (...a) => inner.touchSession(...a),
      apply: (op) => inner.apply(op),
      append: (t, d) => inner.append(t, d),
      head: (t) => inner.head(t),
      read: (t, f, l) => inner.read(t, f, l),
      appendOnce: (t, d, o) => inner.appendOnce(t, d, o),
      updatePresence: (...a) => inner.updatePresence(...a),
      listPresence: (t) => inner.listPresence(t),
      touchNode: (n, ttl) => inner.touchNode(n, ttl),
      nodes: () => inner.nodes(),
      subscribe(topic, listener) {
        listeners.push([topic, listener])
        offs.push(inner.subscribe(topic, listener))
        return () => {}
      },
      close: async () => {},
    }
    const node = await nodes.start({ store })
    const c = await connect(node)
    await c.hello({ t: null })
    const first = await c.next<Subscribed>((f) => f.t === 'subscribed')
    await store.append('t', 'old-1')
    await c.until(() => c.msgs('t').length === 1)
    inner = new MemoryStore()
    for (const off of offs.splice(0)) off()
    for (const [topic, listener] of listeners) offs.push(inner.subscribe(topic, listener))
    await store.append('t', 'new-1')
    await store.append('t', 'new-2')
    const again = await c.next<Subscribed>((f) => f.t === 'subscribed', 5_000, c.frames.indexOf(first) + 1)
    expect(again).toMatchObject({ recovered: false, gap: { reason: 'epoch', from: 1, to: 0 } })
    expect(again.epoch).not.toBe(first.epoch)
    await c.until(() => c.msgs('t').length === 3)
    expect(c.msgs('t').map((m) => [m.offset, m.data])).toEqual([[1, 'old-1'], [1, 'new-1'], [2, 'new-2']])
  })
})
