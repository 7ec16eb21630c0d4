/** The public API's smaller promises: reconnect(), the online event, subscribe/unsubscribe, typed schema data. */
import { useFakeServers } from './support/fake-servers.js'
import { describe, expect, expectTypeOf, it } from 'vitest'
import * as z from 'zod/mini'
import { ErrorCode } from '@lifeline/protocol'
import { createClient, LifelineError, type Message } from '../src/index.js'
import type { ClientOptions } from '../src/types.js'
import { Ledger, range } from './support/ledger.js'

const { serve, track } = useFakeServers()

/** A backoff window of 30 s: anything that reconnects within the test skipped it. */
const SLOW = { backoff: { minMs: 30_000, maxMs: 30_000 }, random: () => 0.999 }

function setup(name: string, opts: Partial<ClientOptions> = {}) {
  const srv = serve(name)
  const client = track(createClient({ url: srv.url, ...opts }))
  return { srv, client, seen: new Ledger(client) }
}

describe('client API', () => {
  it('reconnect() skips a running backoff, and on an open connection makes a new one; the stream stays exact', async () => {
    const { srv, client, seen } = setup('reconnect', SLOW)
    await client.subscribe('t')
    srv.publish('t', 1)
    srv.kill(srv.conn)
    await new Promise((r) => setTimeout(r, 50))
    expect(client.state).toBe('reconnecting')
    srv.publish('t', 2)
    client.reconnect()
    await srv.welcomed(2, 1000)
    client.reconnect() // while open: a fresh socket at once
    await srv.welcomed(3, 1000)
    srv.publish('t', 3)
    await seen.waitFor('t', 3)
    seen.exact('reconnect()', 't', range(1, 3))
    expect(srv.maxOpen).toBe(1)
  })

  it("the browser's online event skips a running backoff", async () => {
    const target = new EventTarget()
    const g = globalThis as { addEventListener?: unknown; removeEventListener?: unknown }
    g.addEventListener = target.addEventListener.bind(target)
    g.removeEventListener = target.removeEventListener.bind(target)
    try {
      const { srv, client } = setup('online', SLOW)
      await srv.welcomed(1)
      srv.kill(srv.conn)
      await new Promise((r) => setTimeout(r, 50))
      expect(client.state).toBe('reconnecting')
      target.dispatchEvent(new Event('online'))
      await srv.welcomed(2, 1000)
      await client.close()
      target.dispatchEvent(new Event('online')) // removed on close(): no new connection
      await new Promise((r) => setTimeout(r, 50))
      expect(srv.conns).toHaveLength(2)
    } finally {
      delete g.addEventListener
      delete g.removeEventListener
    }
  })

  it('subscribe resolves once confirmed (at once when already), fails fast on a bad name; unsubscribe stops delivery', async () => {
    const { srv, client, seen } = setup('subs')
    await client.subscribe('a')
    await client.subscribe('a')
    await expect(client.subscribe('no spaces')).rejects.toBeInstanceOf(LifelineError)
    await expect(client.subscribe('@secret')).rejects.toMatchObject({ code: ErrorCode.RESERVED_TOPIC })
    expect(srv.conn.received.filter((f) => f.t === 'sub')).toEqual([])
    srv.publish('a', 1)
    await seen.waitFor('a', 1)
    await client.unsubscribe('a')
    srv.publish('a', 2)
    await client.subscribe('b')
    srv.publish('b', 'b1')
    await seen.waitFor('b', 1)
    seen.exact('unsubscribe', 'a', [1])
    expect(srv.conn.received.filter((f) => f.t === 'unsub' || f.t === 'sub')).toEqual([
      { t: 'unsub', topic: 'a' },
      { t: 'sub', topic: 'b' },
    ])
  })

  it('schema types message data and skips what does not match', async () => {
    const srv = serve('schema')
    const client = track(createClient({ url: srv.url, schema: z.object({ text: z.string() }) }))
    const got: Message<{ text: string }>[] = []
    const errors: string[] = []
    client.on('message', (m) => {
      expectTypeOf(m.data).toEqualTypeOf<{ text: string }>()
      got.push(m)
    })
    client.on('error', (e) => errors.push(e.code))
    await client.subscribe('chat')
    srv.publish('chat', { text: 'hi' })
    srv.publish('chat', { text: 42 })
    srv.publish('chat', { text: 'there' })
    srv.publish('chat', 'nope')
    srv.publish('chat', { text: '!' })
    await new Promise<void>((resolve) => client.on('message', (m) => m.offset === 5 && resolve()))
    expect(got.map((m) => [m.offset, m.data.text])).toEqual([
      [1, 'hi'],
      [3, 'there'],
      [5, '!'],
    ])
    expect(errors).toEqual([ErrorCode.INVALID_DATA, ErrorCode.INVALID_DATA])
  })
})
