/**
 * The SDK's history calls against real clusters (node processes, balancer, store), once on the memory store and
 * once on a real Redis: `subscribe(topic, { from })` replays then goes live through a node kill, `history()`
 * answers from the log (and is asked again when its node freezes under it), `messages()` iterates, and
 * `signal` withdraws what was not sent yet. Counted with the one ledger, and checked against the log itself.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createClient, ErrorCode, type WebSocketConstructor } from '@lifeline/sdk'
import WebSocket from 'ws'
import { startCluster, type Cluster } from '../src/index.js'
import { healCluster } from '../src/testing/heal.js'
import { Ledger, countsLine, exactlyOnceViolations, tagOf, type Tag } from '../src/testing/ledger.js'
import { requireBuilt } from './fixtures/built.js'
import { startRedisServer, type RedisServer } from './support/redis-server.js'
import { waitFor } from './support/wait.js'

type Client = ReturnType<typeof createClient>
const NodeWebSocket = WebSocket as unknown as WebSocketConstructor
const SIZE = 2

describe.each(['memory', 'redis'] as const)('history on a real cluster (%s store)', (kind) => {
  let redis: RedisServer | undefined
  let cluster: Cluster
  const clients: Client[] = []
  let topics = 0
  const topic = () => `history.${kind}.${++topics}`
  const client = (): Client => {
    const c = createClient({ url: cluster.url, WebSocket: NodeWebSocket, backoff: { minMs: 20, maxMs: 200 } })
    clients.push(c)
    return c
  }
  /** `count` messages of `stream` published (and applied) in order, recorded in `ledger` first. */
  const publish = async (c: Client, t: string, stream: string, count: number, ledger?: Ledger): Promise<void> => {
    for (let n = 1; n <= count; n++) {
      ledger?.sent(t, { stream, n })
      await c.publish(t, { stream, n })
      ledger?.settled({ stream, n }, 'resolved')
    }
  }
  const tags = (data: unknown[]): string[] => data.map((d) => `${tagOf(d)?.stream}-${tagOf(d)?.n}`)
  const ids = (stream: string, from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `${stream}-${from + i}`)

  beforeAll(async () => {
    requireBuilt()
    if (kind === 'redis') redis = await startRedisServer()
    // A 1.5 s heartbeat timeout: a frozen node is left within seconds.
    cluster = await startCluster({ nodes: SIZE, store: redis?.url ?? 'memory', heartbeatMs: 500, timeoutMs: 1_500, log: () => {} })
  })
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()))
    await healCluster(cluster, SIZE)
  })
  afterAll(async () => {
    await cluster?.stop()
    await redis?.close()
  })

  it("subscribe from 'earliest' replays the retained log, then goes live, through a SIGKILL of the reader's node: every message once, in order", async () => {
    const t = topic()
    const ledger = new Ledger()
    const writer = client()
    await publish(writer, t, 'pre', 40, ledger)
    const reader = client()
    ledger.follow('reader', reader)
    ledger.reads('reader', t, { from: { pre: 1 } }) // the whole retained log is expected, not only what comes next
    await reader.subscribe(t, { from: 'earliest' })
    const live = publish(writer, t, 'live', 60, ledger)
    await waitFor(() => reader.state === 'open' && ledger.counts({ reader: 'reader' }).received >= 60, 'the reader halfway', 15_000)
    const victim = cluster.nodeOf(reader.sessionId!)!
    await cluster.kill(victim)
    await live
    await waitFor(() => ledger.complete(), 'the reader to have every message', 20_000)
    const counts = ledger.counts()
    console.log(countsLine(`history-earliest-kill-${kind}`, counts, { killed: victim, resumedOn: cluster.nodeOf(reader.sessionId!) ?? '?' }))
    expect(exactlyOnceViolations(counts)).toEqual([])
    expect(counts.received).toBe(100)

    // history() reads the same log without subscribing: the tail, from an offset, from the earliest.
    const other = client()
    const tail = await other.history(t, { limit: 10 })
    expect(tail.last).toBe(100)
    expect(tags(tail.messages.map((m) => m.data))).toEqual(ids('live', 51, 60))
    expect(tail.messages.map((m) => m.offset)).toEqual(Array.from({ length: 10 }, (_, i) => 91 + i))
    expect(tags((await other.history(t, { from: 41, limit: 3 })).messages.map((m) => m.data))).toEqual(ids('live', 1, 3))
    const all = await other.history(t, { from: 'earliest' })
    expect(tags(all.messages.map((m) => m.data))).toEqual([...ids('pre', 1, 40), ...ids('live', 1, 60)])
    expect(all.gap).toBeUndefined()
  })

  it('subscribe from an offset (with the epoch history() gave) replays from there with no gap or duplicate at the seam', async () => {
    const t = topic()
    const ledger = new Ledger()
    const writer = client()
    await publish(writer, t, 'a', 30, ledger)
    const reader = client()
    const seen = await reader.history(t, { from: 'earliest', limit: 20 })
    const next = seen.messages[seen.messages.length - 1]!.offset + 1
    for (const m of seen.messages) ledger.logged({ topic: t, epoch: seen.epoch, offset: m.offset, ...(tagOf(m.data) as Tag) })
    ledger.follow('reader', reader)
    ledger.reads('reader', t, { from: { a: next } })
    await reader.subscribe(t, { from: next, epoch: seen.epoch })
    await publish(writer, t, 'b', 10, ledger)
    await waitFor(() => ledger.complete(), 'the rest of the log and the live messages', 15_000)
    const counts = ledger.counts()
    console.log(countsLine(`history-from-offset-${kind}`, counts, { from: next }))
    expect(exactlyOnceViolations(counts)).toEqual([])
    expect(counts.received).toBe(20) // a-21 … a-30, then b-1 … b-10
  })

  it('a history() asked of a node that freezes under it is asked again on the next node and resolves', async () => {
    const t = topic()
    const c = client()
    await publish(c, t, 'f', 5)
    const frozen = cluster.nodeOf(c.sessionId!)!
    await cluster.freeze(frozen)
    const answer = await c.history(t, { from: 'earliest' })
    expect(tags(answer.messages.map((m) => m.data))).toEqual(ids('f', 1, 5))
    expect(cluster.nodeOf(c.sessionId!)).not.toBe(frozen)
  })

  it('messages() iterates one topic in order, a break ends it, and close() ends the others after what they hold', async () => {
    const t = topic()
    const writer = client()
    await publish(writer, t, 'it', 20)
    const reader = client()
    const feed = reader.messages(t)
    await reader.subscribe(t, { from: 'earliest' })
    const more = publish(writer, t, 'it2', 20)
    const ledger = new Ledger()
    ledger.reads('reader', t)
    for (let n = 1; n <= 20; n++) ledger.sent(t, { stream: 'it', n }), ledger.sent(t, { stream: 'it2', n })
    for await (const m of feed) {
      ledger.received({ reader: 'reader', topic: m.topic, epoch: m.epoch, offset: m.offset, ...(tagOf(m.data) as Tag) })
      if (m.offset === 40) break
    }
    await more
    const counts = ledger.counts()
    console.log(countsLine(`history-messages-iterator-${kind}`, counts))
    expect(exactlyOnceViolations(counts)).toEqual([])

    const second = reader.messages(t)
    const drained = (async () => {
      let n = 0
      for await (const _ of second) n++
      return n
    })()
    await publish(writer, t, 'late', 3)
    await waitFor(() => reader.pending === 0, 'nothing pending')
    await reader.close()
    expect(await drained).toBeLessThanOrEqual(3) // it ended: close() resolved the loop
  })

  it('signal: publishes aborted before they were written are never applied; one aborted after is applied once; a subscribe aborted before its confirmation delivers nothing', async () => {
    const t = topic()
    const ledger = new Ledger()
    const writer = client()
    await writer.subscribe(t)
    // An outage: the writer's node dies, so what is published now waits in the outbox, unsent.
    const victim = cluster.nodeOf(writer.sessionId!)!
    const left = new Promise<void>((resolve) => writer.on('state', ({ to }) => to !== 'open' && resolve()))
    await cluster.kill(victim)
    await left
    const settled: Promise<unknown>[] = []
    for (let n = 1; n <= 10; n++) {
      const tag = { stream: 'sig', n }
      const controller = new AbortController()
      ledger.sent(t, tag)
      settled.push(writer.publish(t, tag, { signal: controller.signal }).then(() => ledger.settled(tag, 'resolved'), (e: { code?: string }) => (ledger.settled(tag, 'rejected'), e.code)))
      if (n % 2 === 0) controller.abort()
    }
    expect(writer.pending).toBe(5)
    const outcomes = await Promise.all(settled)
    expect(outcomes.filter((o) => o === ErrorCode.ABORTED)).toHaveLength(5)
    // On an open connection the publish is written at once: an abort after it changes nothing.
    const late = new AbortController()
    ledger.sent(t, { stream: 'sig', n: 11 })
    const written = writer.publish(t, { stream: 'sig', n: 11 }, { signal: late.signal })
    late.abort()
    await written
    ledger.settled({ stream: 'sig', n: 11 }, 'resolved')

    // The log itself: the odd ones and the late one, each once; no aborted one.
    const log = await writer.history(t, { from: 'earliest' })
    expect(tags(log.messages.map((m) => m.data))).toEqual(['sig-1', 'sig-3', 'sig-5', 'sig-7', 'sig-9', 'sig-11'])
    for (const m of log.messages) ledger.logged({ topic: t, epoch: log.epoch, offset: m.offset, ...(tagOf(m.data) as Tag) })
    const counts = ledger.counts()
    console.log(countsLine(`history-signal-${kind}`, counts, { aborted: 5 }))
    expect(counts).toMatchObject({ resolved: 6, rejected: 5, notApplied: 0, appliedTwice: 0 })

    // A subscribe withdrawn before the server confirmed it: nothing of that topic is delivered.
    const reader = client()
    const withdrawn = topic()
    const controller = new AbortController()
    const sub = reader.subscribe(withdrawn, { signal: controller.signal })
    controller.abort()
    await expect(sub).rejects.toMatchObject({ code: ErrorCode.ABORTED })
    const got: string[] = []
    reader.on('message', (m) => got.push(m.topic))
    const control = topic()
    await reader.subscribe(control)
    await writer.publish(withdrawn, { stream: 'w', n: 1 })
    await writer.publish(control, { stream: 'c', n: 1 })
    await waitFor(() => got.includes(control), 'the control message')
    expect(got).toEqual([control])
  })
})
