/**
 * The store contract: every Store implementation registers these tests with its own factory.
 *   storeContract('memory', (o) => Promise.resolve(new MemoryStore(o)))
 * `makeStore` must honour `options.retention` (the suite shrinks it to test retention without 10,000 writes).
 * Age and expiry tests use short real ages (a few hundred ms), so a store with a server-side clock (Redis) runs
 * them unchanged.
 */
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { presenceTopic } from '../src/store/presence.js'
import type { Retention, Store, StoredMessage } from '../src/store/types.js'
import { waitFor } from './support/wait.js'

/** A new session's owner: its generation and (optionally) the creating client's instance. */
const owner = (generation: number, instance?: string) => ({ generation, instance, attempt: 1 })
/** A resume presenting the token of generation `presented`, to become `next`. */
const claim = (presented: number, next: number, instance?: string, lastSeq = 1_000_000, attempt = ++attempts) => ({ presented, next, instance, lastSeq, attempt })
let attempts = 1

export interface ContractStoreOptions {
  retention: Retention
}
export type MakeStore = (options: ContractStoreOptions) => Promise<Store>

/** Bounds no test here reaches unless it shrinks one (the byte bounds are the memory store's: memory-retention.test.ts). */
const roomy: Retention = { maxMessages: 10_000, maxAgeMs: 120_000, maxBytes: 64 * 1024 * 1024, maxTotalBytes: 256 * 1024 * 1024 }
const TTL = 60_000

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** Unique names, so a store shared between tests (one Redis) never sees another test's topic or session. */
const unique = (p: string) => `${p}-${randomUUID().slice(0, 8)}`

export interface StoreTraits {
  /** The store's data dies with it (memory, ipc): a second instance is a new incarnation with new epochs. */
  volatile?: boolean
}

export function storeContract(name: string, makeStore: MakeStore, cleanup?: () => Promise<void>, traits: StoreTraits = {}): void {
  describe(`store contract: ${name}`, () => {
    const opened: Store[] = []
    const open = async (retention: Partial<Retention> = {}) => {
      const store = await makeStore({ retention: { ...roomy, ...retention } })
      opened.push(store)
      return store
    }
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()))
      await cleanup?.()
    })

    it('appends with dense offsets from 1 under one epoch, and reads ranges', async () => {
      const store = await open()
      const topic = unique('dense')
      expect(await store.head(topic)).toMatchObject({ last: 0, first: 1 })
      const appended: StoredMessage[] = []
      for (let i = 0; i < 5; i++) appended.push(await store.append(topic, { i }))
      expect(appended.map((m) => m.offset)).toEqual([1, 2, 3, 4, 5])
      const epoch = appended[0]!.epoch
      expect(epoch.length).toBeGreaterThan(0)
      expect(appended.every((m) => m.epoch === epoch && m.topic === topic)).toBe(true)
      expect(await store.head(topic)).toEqual({ epoch, last: 5, first: 1 })
      expect((await store.read(topic, 2, 2)).map((m) => [m.offset, m.data])).toEqual([[2, { i: 1 }], [3, { i: 2 }]])
      expect((await store.read(topic, 4, 100)).map((m) => m.offset)).toEqual([4, 5])
      expect(await store.read(topic, 6, 10)).toEqual([])
      expect((await store.read(topic, 0, 10)).map((m) => m.offset)).toEqual([1, 2, 3, 4, 5])
    })

    it('gives each topic its own offsets', async () => {
      const store = await open()
      const [a, b] = [unique('a'), unique('b')]
      await store.append(a, 1)
      await store.append(a, 2)
      expect((await store.append(b, 3)).offset).toBe(1)
    })

    it('gives a new store incarnation a new epoch', async () => {
      const first = await open()
      const topic = unique('epoch')
      const e1 = (await first.append(topic, 1)).epoch
      expect((await first.head(topic)).epoch).toBe(e1)
      // Only for stores whose data dies with them; a persistent store (Redis) rightly keeps its epoch.
      if (traits.volatile) {
        const second = await open()
        expect((await second.head(topic)).epoch).not.toBe(e1)
      }
    })

    it('keeps at most maxMessages per topic', async () => {
      const store = await open({ maxMessages: 3 })
      const topic = unique('count')
      for (let i = 1; i <= 7; i++) await store.append(topic, i)
      expect(await store.head(topic)).toMatchObject({ last: 7, first: 5 })
      expect((await store.read(topic, 1, 10)).map((m) => m.offset)).toEqual([5, 6, 7])
    })

    it('drops messages older than maxAgeMs', async () => {
      const store = await open({ maxAgeMs: 300 })
      const topic = unique('age')
      await store.append(topic, 'old')
      await sleep(450)
      await store.append(topic, 'new')
      expect(await store.head(topic)).toMatchObject({ last: 2, first: 2 })
      expect((await store.read(topic, 1, 10)).map((m) => m.data)).toEqual(['new'])
      await sleep(450)
      expect(await store.head(topic)).toMatchObject({ last: 2, first: 3 })
      expect(await store.read(topic, 1, 10)).toEqual([])
    })

    it('applies a pub atomically and advances acked', async () => {
      const store = await open()
      const [sid, topic] = [unique('s'), unique('t')]
      expect(await store.createSession(sid, TTL, owner(1))).toMatchObject({ id: sid, acked: 0, generation: 1 })
      const r = await store.apply({ session: sid, generation: 1, seq: 1, appends: [{ topic, data: 'x' }, { topic, data: 'y' }] })
      expect(r.status).toBe('applied')
      if (r.status === 'applied') expect(r.messages.map((m) => [m.offset, m.data])).toEqual([[1, 'x'], [2, 'y']])
      expect(await store.apply({ session: sid, generation: 1, seq: 2, appends: [] })).toMatchObject({ status: 'applied', messages: [] })
      expect(await store.claimSession(sid, TTL, claim(1, 2))).toMatchObject({ status: 'claimed', record: { acked: 2 } })
    })

    it('answers duplicate for seq <= acked without appending', async () => {
      const store = await open()
      const [sid, topic] = [unique('s'), unique('t')]
      await store.createSession(sid, TTL, owner(1))
      await store.apply({ session: sid, generation: 1, seq: 1, appends: [{ topic, data: 1 }] })
      expect(await store.apply({ session: sid, generation: 1, seq: 1, appends: [{ topic, data: 1 }] })).toEqual({ status: 'duplicate' })
      expect((await store.head(topic)).last).toBe(1)
    })

    it('answers seq-gap when a seq skips ahead, with the current acked, and appends nothing', async () => {
      const store = await open()
      const [sid, topic] = [unique('s'), unique('t')]
      await store.createSession(sid, TTL, owner(1))
      await store.apply({ session: sid, generation: 1, seq: 1, appends: [] })
      expect(await store.apply({ session: sid, generation: 1, seq: 3, appends: [{ topic, data: 3 }] })).toEqual({ status: 'seq-gap', acked: 1 })
      expect((await store.head(topic)).last).toBe(0)
    })

    it('applies a batch (seq..through) as one: every append in order, acked = through; a batch already applied is a duplicate, one that overlaps is a seq-gap', async () => {
      const store = await open()
      const [sid, topic] = [unique('s'), unique('t')]
      await store.createSession(sid, TTL, owner(1))
      const batch = { session: sid, generation: 1, seq: 1, through: 3, appends: [1, 2, 3].map((data) => ({ topic, data })) }
      const r = await store.apply(batch)
      expect(r.status).toBe('applied')
      if (r.status === 'applied') expect(r.messages.map((m) => [m.offset, m.data])).toEqual([[1, 1], [2, 2], [3, 3]])
      expect(await store.apply(batch)).toEqual({ status: 'duplicate' })
      expect(await store.apply({ session: sid, generation: 1, seq: 3, appends: [{ topic, data: 3 }] })).toEqual({ status: 'duplicate' })
      expect(await store.apply({ ...batch, seq: 3, through: 5 })).toEqual({ status: 'seq-gap', acked: 3 })
      expect(await store.apply({ ...batch, seq: 5, through: 6 })).toEqual({ status: 'seq-gap', acked: 3 })
      expect((await store.head(topic)).last).toBe(3)
      expect(await store.claimSession(sid, TTL, claim(1, 2))).toMatchObject({ status: 'claimed', record: { acked: 3 } })
    })

    it('sets the claimed generation and refuses writes of the old one', async () => {
      const store = await open()
      const [sid, topic] = [unique('s'), unique('t')]
      await store.createSession(sid, TTL, owner(1))
      expect(await store.claimSession(sid, TTL, claim(1, 2))).toMatchObject({ status: 'claimed', record: { generation: 2, acked: 0 } })
      expect(await store.apply({ session: sid, generation: 1, seq: 1, appends: [{ topic, data: 'zombie' }] })).toEqual({ status: 'stale-generation' })
      expect((await store.head(topic)).last).toBe(0)
      expect(await store.touchSession(sid, 1, TTL)).toBe(false)
      expect(await store.touchSession(sid, 2, TTL)).toBe(true)
      expect((await store.apply({ session: sid, generation: 2, seq: 1, appends: [{ topic, data: 'ok' }] })).status).toBe('applied')
    })

    it('one writer per session: a claim is taken unless it is the same client, or holds the current token and knows every write', async () => {
      const store = await open()
      const [sid, topic] = [unique('s'), unique('t')]
      await store.createSession(sid, TTL, owner(10, 'tab-a'))
      await store.apply({ session: sid, generation: 10, seq: 1, appends: [{ topic, data: 1 }] })
      // A copy (another instance) with the current token but a lastSeq behind acked missed a write: taken.
      expect(await store.claimSession(sid, TTL, claim(10, 11, 'tab-b', 0))).toEqual({ status: 'taken' })
      // The session is left as it was: the writer goes on.
      expect((await store.apply({ session: sid, generation: 10, seq: 2, appends: [] })).status).toBe('applied')
      // A copy that knows every write (a reload) may take it with the current token.
      expect(await store.claimSession(sid, TTL, claim(10, 11, 'tab-b', 2))).toMatchObject({ status: 'claimed', record: { generation: 11, acked: 2 } })
      // The old holder now presents an older token: another instance made the latest claim, so it is taken.
      expect(await store.claimSession(sid, TTL, claim(10, 12, 'tab-a', 2))).toEqual({ status: 'taken' })
      // The latest claimant retrying with the older token (its welcome was lost) is the same client: claimed.
      expect(await store.claimSession(sid, TTL, claim(10, 12, 'tab-b', 2))).toMatchObject({ status: 'claimed', record: { generation: 12 } })
      // No instance: only the current token with full knowledge counts.
      expect(await store.claimSession(sid, TTL, claim(11, 13, undefined, 2))).toEqual({ status: 'taken' })
      expect(await store.claimSession(sid, TTL, claim(12, 13, undefined, 2))).toMatchObject({ status: 'claimed', record: { generation: 13 } })
      expect(await store.claimSession(sid, TTL, claim(13, 14, 'tab-b', 2))).toMatchObject({ status: 'claimed' })
      // The same client, but the session is acked beyond what it ever sent (a store rolled back to a newer
      // snapshot after an older one): writes it does not know of, so taken.
      expect(await store.claimSession(sid, TTL, claim(14, 15, 'tab-b', 1))).toEqual({ status: 'taken' })
      // The same client with a token the session never issued (the store was rolled back past that claim).
      expect(await store.claimSession(sid, TTL, claim(99, 15, 'tab-b', 2))).toEqual({ status: 'taken' })
      // A hello of that client from an earlier attempt, read late (it waited in a frozen node): stale, no change.
      expect(await store.claimSession(sid, TTL, claim(14, 15, 'tab-b', 2, 1))).toEqual({ status: 'stale' })
      expect(await store.touchSession(sid, 14, TTL)).toBe(true)
    })

    it('answers unknown-session for a session never created', async () => {
      const store = await open()
      expect(await store.apply({ session: unique('nobody'), generation: 1, seq: 1, appends: [] })).toEqual({ status: 'unknown-session' })
      expect(await store.claimSession(unique('nobody'), TTL, claim(1, 2))).toEqual({ status: 'unknown' })
      expect(await store.touchSession(unique('nobody'), 1, TTL)).toBe(false)
    })

    it('expires a session after its ttl, and touch keeps it alive', async () => {
      const store = await open()
      const [gone, kept] = [unique('gone'), unique('kept')]
      // Both start with a 300 ms ttl; the touch right away gives `kept` 10 s. Only lower bounds are timed, so a slow
      // machine cannot flip the result (an earlier version touched after 200 ms and failed when that sleep overran).
      await store.createSession(gone, 300, owner(1))
      await store.createSession(kept, 300, owner(1))
      expect(await store.touchSession(kept, 1, 10_000)).toBe(true)
      await sleep(700)
      expect(await store.claimSession(gone, TTL, claim(1, 2))).toEqual({ status: 'unknown' })
      expect(await store.apply({ session: gone, generation: 1, seq: 1, appends: [] })).toEqual({ status: 'unknown-session' })
      expect(await store.claimSession(kept, TTL, claim(1, 2))).toMatchObject({ status: 'claimed', record: { generation: 2 } })
    })

    it('fans out live messages in offset order to every subscriber, and stops on unsubscribe', async () => {
      const store = await open()
      const [sid, topic] = [unique('s'), unique('fan')]
      await store.createSession(sid, TTL, owner(1))
      const seenA: number[] = []
      const seenB: number[] = []
      const offA = store.subscribe(topic, (m) => seenA.push(m.offset))
      const offB = store.subscribe(topic, (m) => seenB.push(m.offset))
      const other = store.subscribe(unique('other'), () => seenA.push(-1))
      // Subscriptions may be asynchronous (IPC, Redis): wait until a probe arrives.
      await store.append(topic, 'probe')
      await waitFor(() => seenA.length >= 1 && seenB.length >= 1, 'the probe at both subscribers', 5_000, 5)
      const N = 200
      for (let i = 1; i <= N; i++) {
        if (i % 2) await store.append(topic, i)
        else await store.apply({ session: sid, generation: 1, seq: i / 2, appends: [{ topic, data: i }] })
      }
      await waitFor(() => seenA.length >= N + 1 && seenB.length >= N + 1, `${N} messages at both subscribers`, 5_000, 5)
      const expected = Array.from({ length: N + 1 }, (_, i) => i + 1)
      expect(seenA).toEqual(expected)
      expect(seenB).toEqual(expected)
      offA()
      await store.append(topic, 'after')
      await waitFor(() => seenB.length >= N + 2, 'the message after the unsubscribe at B', 5_000, 5)
      expect(seenA.length).toBe(N + 1)
      offB()
      other()
    })

    it('stamps the session\'s user as `from` on every message of an apply, in reads and live; server appends carry none', async () => {
      const store = await open()
      const [sid, topic] = [unique('s'), unique('from')]
      await store.createSession(sid, TTL, owner(1))
      const live: StoredMessage[] = []
      store.subscribe(topic, (m) => live.push(m))
      await store.append(topic, 'probe')
      await waitFor(() => live.length === 1, 'the probe', 5_000, 5)
      const r = await store.apply({ session: sid, generation: 1, seq: 1, from: 'alice', appends: [{ topic, data: 'a' }, { topic, data: 'b' }] })
      expect(r.status === 'applied' && r.messages.map((m) => m.from)).toEqual(['alice', 'alice'])
      await store.apply({ session: sid, generation: 1, seq: 2, appends: [{ topic, data: 'anonymous' }] })
      await waitFor(() => live.length === 4, 'the applied messages live', 5_000, 5)
      const read = await store.read(topic, 1, 10)
      expect(read.map((m) => [m.data, m.from])).toEqual([['probe', undefined], ['a', 'alice'], ['b', 'alice'], ['anonymous', undefined]])
      expect(live.map((m) => [m.data, m.from])).toEqual(read.map((m) => [m.data, m.from]))
    })

    it('appendOnce appends once per key, however often and concurrently it is retried, and again once the key expired', async () => {
      const store = await open()
      const topic = unique('once')
      const key = unique('key')
      // A long ttl while the retries run (a loaded machine once took > 400 ms between the first call and them);
      // expiry is checked with a key of its own below, timed by a lower bound only.
      const once = { key, fingerprint: 'f1', ttlMs: 30_000 }
      const first = await store.appendOnce(topic, { n: 1 }, once)
      expect(first).toMatchObject({ topic, offset: 1, fingerprint: 'f1', repeated: false })
      const retries = await Promise.all([1, 2, 3].map(() => store.appendOnce(topic, { n: 1 }, once)))
      expect(retries.map((r) => [r.offset, r.epoch, r.repeated])).toEqual(retries.map(() => [1, first.epoch, true]))
      // A retry that differs gets the first result back (with its fingerprint): the caller can tell it apart.
      expect(await store.appendOnce(topic, { n: 2 }, { ...once, fingerprint: 'f2' })).toMatchObject({ offset: 1, fingerprint: 'f1', repeated: true })
      const concurrent = unique('key')
      const racing = await Promise.all([1, 2, 3, 4].map(() => store.appendOnce(topic, 'race', { key: concurrent, fingerprint: 'r', ttlMs: TTL })))
      expect(racing.filter((r) => !r.repeated)).toHaveLength(1)
      expect(new Set(racing.map((r) => r.offset))).toEqual(new Set([2]))
      expect((await store.read(topic, 1, 10)).map((m) => m.data)).toEqual([{ n: 1 }, 'race'])
      const brief = { key: unique('key'), fingerprint: 'e', ttlMs: 300 }
      expect(await store.appendOnce(topic, 'expiring', brief)).toMatchObject({ offset: 3, repeated: false })
      await sleep(450)
      expect(await store.appendOnce(topic, 'expiring', brief)).toMatchObject({ offset: 4, repeated: false })
    })

    it('presence: users by live session, one join for a user\'s first session and one leave for its last, across modes', async () => {
      const store = await open()
      const [topic, other] = [unique('room'), unique('room')]
      const [a1, a2, b1, gone] = [unique('a1'), unique('a2'), unique('b1'), unique('gone')]
      for (const sid of [a1, a2, b1]) await store.createSession(sid, TTL, owner(1))
      const events: unknown[] = []
      store.subscribe(presenceTopic(topic), (m) => events.push(m.data))
      await store.append(presenceTopic(topic), 'probe')
      await waitFor(() => events.length === 1, 'the presence probe', 5_000, 5)
      events.length = 0

      await store.updatePresence(a1, 'alice', [topic, other], 'add')
      await store.updatePresence(a2, 'alice', [topic], 'add')
      await store.updatePresence(a2, 'alice', [topic], 'add') // again: no change
      await store.updatePresence(b1, 'bob', [topic], 'set')
      // Short-lived, made just before it is listed, so a loaded machine still lists it before it expires.
      await store.createSession(gone, 1_000, owner(1))
      await store.updatePresence(gone, 'carol', [topic], 'add')
      expect(await store.listPresence(topic)).toEqual([{ user: 'alice', sessions: 2 }, { user: 'bob', sessions: 1 }, { user: 'carol', sessions: 1 }])
      expect(await store.listPresence(other)).toEqual([{ user: 'alice', sessions: 1 }])

      await store.updatePresence(a1, 'alice', [topic], 'remove') // alice still has a2 there: no leave
      await store.updatePresence(a1, 'alice', [], 'set') // a1 leaves `other` too: alice's last session there
      expect(await store.listPresence(other)).toEqual([])
      await store.updatePresence(a2, 'alice', [topic], 'remove')
      // Carol's session expires: no longer listed, and the listing that finds it gone appends her leave.
      await waitFor(async () => (await store.listPresence(topic)).length === 1, "carol's session to expire", 5_000, 50)
      expect(await store.listPresence(topic)).toEqual([{ user: 'bob', sessions: 1 }])
      await waitFor(() => events.length >= 5, 'the presence events', 5_000, 5)
      await sleep(50) // a duplicate would arrive within this
      expect(events).toEqual([
        { user: 'alice', joined: true },
        { user: 'bob', joined: true },
        { user: 'carol', joined: true },
        { user: 'alice', joined: false },
        { user: 'carol', joined: false },
      ])
    })

    it('lists the nodes whose touch has not expired', async () => {
      const store = await open()
      const [a, b] = [unique('node-a'), unique('node-b')]
      await store.touchNode(a, TTL)
      await store.touchNode(b, 300)
      expect((await store.nodes()).filter((n) => n === a || n === b)).toEqual([a, b].sort())
      await sleep(450)
      expect((await store.nodes()).filter((n) => n === a || n === b)).toEqual([a])
    })
  })
}
