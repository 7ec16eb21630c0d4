/**
 * The client's history calls through its adapter (promises, listeners, signals) against an msw fake server that
 * drops connections: `subscribe(topic, { from: 'earliest' })` across a drop mid-replay, `messages()`, and what a
 * `signal` does to publish and subscribe. Counted with the ledger.
 */
import { describe, expect, it } from 'vitest'
import { ErrorCode } from '@lifeline/protocol'
import { createClient, type Message } from '../src/index.js'
import { useFakeServers } from './support/fake-servers.js'
import { Ledger, range } from './support/ledger.js'

const { serve, track } = useFakeServers()
const FAST = { backoff: { minMs: 5, maxMs: 20 } }

describe('client: history', () => {
  it("subscribe from 'earliest' replays the log, then goes live; a drop during the replay neither loses nor repeats", async () => {
    const srv = serve('earliest')
    for (let n = 1; n <= 30; n++) srv.publish('log', n)
    const client = track(createClient({ url: srv.url, ...FAST }))
    const seen = new Ledger(client)
    await client.subscribe('log', { from: 'earliest' })
    await seen.waitFor('log', 10)
    srv.kill(srv.conn) // mid-replay or just after: the hello resumes from the position
    await srv.welcomed(2)
    for (let n = 31; n <= 40; n++) srv.publish('log', n)
    await seen.waitFor('log', 40)
    seen.exact("from 'earliest' across a drop", 'log', range(1, 40))
    expect(srv.conns[1]!.received[0]).toMatchObject({ t: 'hello', subs: { log: { offset: expect.any(Number), epoch: 'e1' } } })
  })

  it('messages() yields the topic in order from the call on, and ends at close() after what it holds', async () => {
    const srv = serve('iterator')
    const client = track(createClient({ url: srv.url, ...FAST }))
    const seen = new Ledger(client)
    const feed = client.messages('t')
    await client.subscribe('t')
    for (let n = 1; n <= 5; n++) srv.publish('t', n), srv.publish('other', n)
    const got: Message[] = []
    for await (const m of feed) {
      got.push(m)
      if (got.length === 3) break
    }
    expect(got.map((m) => [m.topic, m.data])).toEqual([['t', 1], ['t', 2], ['t', 3]])
    const rest = client.messages('t')
    srv.publish('t', 6)
    await seen.waitFor('t', 6)
    const drained: unknown[] = []
    const loop = (async () => {
      for await (const m of rest) drained.push(m.data)
    })()
    await client.close()
    await loop
    expect(drained).toEqual([6])
  })
})

describe('client: signal', () => {
  it('an already aborted signal rejects ABORTED at once and sends nothing; an abort while disconnected withdraws the publish', async () => {
    const srv = serve('abort')
    const client = track(createClient({ url: srv.url, ...FAST }))
    await srv.welcomed(1)
    const before = new AbortController()
    before.abort()
    await expect(client.publish('t', 'never', { signal: before.signal })).rejects.toMatchObject({ code: ErrorCode.ABORTED })
    const left = new Promise<void>((resolve) => client.on('state', ({ to }) => to === 'reconnecting' && resolve()))
    srv.kill(srv.conn)
    await left // the client knows it is disconnected: what it publishes now waits in the outbox
    const later = new AbortController()
    const withdrawn = client.publish('t', 'withdrawn', { signal: later.signal })
    const kept = client.publish('t', 'kept')
    later.abort()
    await expect(withdrawn).rejects.toMatchObject({ code: ErrorCode.ABORTED })
    await kept
    const applied = [...srv.sessions.values()].flatMap((s) => s.applied.map((a) => a.data))
    expect(applied).toEqual(['kept'])
  })

  it('a subscribe aborted before its confirmation rejects ABORTED and is withdrawn', async () => {
    const srv = serve('abort-sub')
    const client = track(createClient({ url: srv.url, ...FAST }))
    const controller = new AbortController()
    const sub = client.subscribe('gone', { signal: controller.signal })
    controller.abort()
    await expect(sub).rejects.toMatchObject({ code: ErrorCode.ABORTED })
    const c = await srv.welcomed(1)
    expect(c.received[0]).toMatchObject({ t: 'hello', subs: { '@inbox': null } })
    expect(Object.keys((c.received[0] as { subs: object }).subs)).toEqual(['@inbox'])
  })
})
