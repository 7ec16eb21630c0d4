/** The client against msw servers that misbehave on the wire. Every test asserts exactly what the app saw. */
import { useFakeServers } from './support/fake-servers.js'
import { describe, expect, it, vi } from 'vitest'
import { CloseCode, ErrorCode } from '@lifeline/protocol'
import { createClient } from '../src/index.js'
import type { ClientOptions } from '../src/types.js'
import { Ledger, range } from './support/ledger.js'

const { serve, track } = useFakeServers()

function setup(name: string, opts: Partial<ClientOptions> = {}) {
  const srv = serve(name)
  const client = track(createClient({ url: srv.url, backoff: { minMs: 20, maxMs: 50 }, ...opts }))
  return { srv, client, seen: new Ledger(client) }
}

describe('client against misbehaving servers', () => {
  it('connection dropped mid-stream: resumes from its position, nothing lost or repeated', async () => {
    const { srv, client, seen } = setup('drop')
    await client.subscribe('feed')
    for (const i of range(1, 20)) srv.publish('feed', i)
    await seen.waitFor('feed', 10)
    srv.kill(srv.conn) // frames still in flight are lost with the socket
    for (const i of range(21, 60)) srv.publish('feed', i)
    await srv.welcomed(2)
    for (const i of range(61, 80)) srv.publish('feed', i)
    await seen.waitFor('feed', 80)
    seen.exact('drop mid-stream', 'feed', range(1, 80))
    expect(srv.conns[1]!.hello!.subs.feed).toMatchObject({ epoch: 'e1' })
    expect(srv.conns[1]!.url.searchParams.get('sid')).toBe(client.sessionId)
    expect(seen.states).toEqual(['open', 'reconnecting', 'open'])
    expect(srv.maxOpen).toBe(1)
  })

  it('replay overlapping what the client had, and live duplicates: each offset delivered once, in order', async () => {
    const { srv, client, seen } = setup('overlap')
    srv.hooks.replayFrom = (_topic, position) => Math.max(1, position - 5)
    await client.subscribe('feed')
    for (const i of range(1, 30)) srv.publish('feed', i)
    await seen.waitFor('feed', 30)
    srv.kill(srv.conn)
    const c2 = await srv.welcomed(2)
    for (const i of range(31, 40)) srv.publish('feed', i)
    for (const off of [35, 36, 40, 12]) srv.send(c2, { t: 'msg', topic: 'feed', offset: off, epoch: 'e1', data: off })
    srv.publish('feed', 41)
    await seen.waitFor('feed', 41)
    seen.exact('replay with overlaps', 'feed', range(1, 41))
    expect(c2.received.filter((f) => f.t === 'hello')).toHaveLength(1)
  })

  it('close 1012 (drain) reconnects at once, although the backoff window would be 30 s', async () => {
    const { srv, client, seen } = setup('drain', { backoff: { minMs: 30_000, maxMs: 30_000 }, random: () => 0.999 })
    await client.subscribe('t')
    for (const i of range(1, 5)) srv.publish('t', i)
    await seen.waitFor('t', 5)
    const t0 = Date.now()
    srv.kill(srv.conn, CloseCode.SERVICE_RESTART, 'draining')
    for (const i of range(6, 10)) srv.publish('t', i)
    await srv.welcomed(2, 2000)
    const ms = Date.now() - t0
    await seen.waitFor('t', 10)
    seen.exact('close 1012', 't', range(1, 10))
    console.log(`close 1012: reconnected in ${ms} ms (backoff window 30000 ms)`)
    expect(ms).toBeLessThan(1000)
    // Control: any other close waits for the backoff, so the assertion above measures the 1012 rule.
    srv.kill(srv.conn, 1006)
    await new Promise((r) => setTimeout(r, 300))
    expect(srv.conns).toHaveLength(2)
    expect(client.state).toBe('reconnecting')
  })

  it('malformed frames: BAD_SERVER_FRAME error events, a new connection, and the stream continues exactly', async () => {
    const { srv, client, seen } = setup('garbage')
    await client.subscribe('t')
    for (const i of range(1, 5)) srv.publish('t', i)
    await seen.waitFor('t', 5)
    srv.raw(srv.conn, '{this is not json')
    for (const i of range(6, 10)) srv.publish('t', i)
    const c2 = await srv.welcomed(2)
    srv.raw(c2, JSON.stringify({ t: 'msg', topic: 't', offset: 'eleven', epoch: 'e1', data: 11 }))
    await srv.welcomed(3)
    for (const i of range(11, 15)) srv.publish('t', i)
    await seen.waitFor('t', 15)
    seen.exact('malformed frames', 't', range(1, 15))
    expect(seen.errors.map((e) => e.code)).toEqual([ErrorCode.BAD_SERVER_FRAME, ErrorCode.BAD_SERVER_FRAME])
    expect(seen.errors[1]!.message).toContain('msg.offset')
    expect(srv.maxOpen).toBe(1)
  })

  it('a silent (frozen) node is detected by the heartbeat timeout; the client moves on and loses nothing', async () => {
    const { srv, client, seen } = setup('silence')
    srv.heartbeatMs = 50
    srv.timeoutMs = 300
    await client.subscribe('t')
    for (const i of range(1, 5)) srv.publish('t', i)
    await seen.waitFor('t', 5)
    await new Promise((r) => setTimeout(r, 400)) // pings keep a healthy connection alive past timeoutMs
    expect(srv.conns).toHaveLength(1)
    const frozenAt = Date.now()
    srv.conn.frozen = true // SIGSTOP: no frames, no close
    for (const i of range(6, 10)) srv.publish('t', i)
    await srv.welcomed(2, 3000)
    const ms = Date.now() - frozenAt
    await seen.waitFor('t', 10)
    seen.exact('silent node', 't', range(1, 10))
    console.log(`silent node: detected and reconnected in ${ms} ms (timeoutMs 300)`)
    expect(ms).toBeGreaterThanOrEqual(300 - 50 - 10) // the last ping came at most heartbeatMs before the freeze
    expect(ms).toBeLessThan(1500)
    expect(srv.conns[0]!.received.filter((f) => f.t === 'pong').length).toBeGreaterThan(3)
  })

  it('an app listener that throws breaks neither the client nor the other listeners', async () => {
    const { srv, client, seen } = setup('throws')
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {})
    client.on('message', () => {
      throw new Error('app bug')
    })
    await client.subscribe('t')
    for (const i of range(1, 10)) srv.publish('t', i)
    await seen.waitFor('t', 10)
    seen.exact('throwing listener', 't', range(1, 10))
    expect(spy).toHaveBeenCalledTimes(10)
    expect(srv.conns).toHaveLength(1)
    spy.mockRestore()
  })
})
