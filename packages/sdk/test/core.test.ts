import { describe, expect, it } from 'vitest'
import { CloseCode, ErrorCode } from '@lifeline/protocol'
import { emitted, harness, msg, settled, timers, writes } from './support/core-harness.js'

describe('session core: state transitions', () => {
  it('connecting → open → reconnecting → open → closed, one state event per change', () => {
    const h = harness()
    expect(h.core.state).toBe('connecting')
    const start = h.step({ type: 'start' })
    expect(start).toContainEqual({ type: 'connect', url: 'ws://lifeline.test/ws' })
    expect(writes(h.step({ type: 'socket-open' }))).toEqual([{ t: 'hello', v: 1, instance: expect.any(String), attempt: 1, subs: { '@inbox': null } }])
    h.open()
    h.step({ type: 'socket-close', code: 1006, reason: '' })
    h.open({ resumed: true })
    h.step({ type: 'close' })
    expect(emitted(h.take(), 'state')).toEqual([
      { from: 'connecting', to: 'open' },
      { from: 'open', to: 'reconnecting' },
      { from: 'reconnecting', to: 'open' },
      { from: 'open', to: 'closed' },
    ])
  })

  it('ignores events of a socket it already gave up on and inputs after close()', () => {
    const h = harness()
    h.open()
    h.step({ type: 'close' })
    h.take()
    expect(h.step({ type: 'socket-close', code: 1006, reason: '' }, { type: 'timer', name: 'retry' })).toEqual([])
    expect(h.frame(msg('@inbox', 1))).toEqual([])
  })

  it('resumes with its token and ?sid= after the first session', () => {
    const h = harness()
    h.open({ id: 'abc', token: 'T' })
    h.step({ type: 'socket-close', code: 1006, reason: '' })
    const e = h.step({ type: 'timer', name: 'retry' }, { type: 'socket-open' })
    expect(e).toContainEqual({ type: 'connect', url: 'ws://lifeline.test/ws?sid=abc' })
    expect(writes(e)[0]).toMatchObject({ t: 'hello', resume: { token: 'T' } })
  })

  it('rotates through fallback URLs when an attempt fails before welcome', () => {
    const h = harness({ url: ['ws://a/ws', 'ws://b/ws?x=1'] })
    const urls: string[] = []
    const grab = (e: ReturnType<typeof h.step>) => e.forEach((x) => x.type === 'connect' && urls.push(x.url))
    grab(h.step({ type: 'start' }))
    grab(h.step({ type: 'socket-close', code: 1006, reason: '' }, { type: 'timer', name: 'retry' }))
    grab(h.step({ type: 'socket-close', code: 1006, reason: '' }, { type: 'timer', name: 'retry' }))
    h.step({ type: 'socket-open' })
    h.frame({ t: 'welcome', session: { id: 's', token: 't' }, resumed: false, node: 'n', acked: 0, heartbeatMs: 1, timeoutMs: 5000 })
    grab(h.step({ type: 'socket-close', code: 1006, reason: '' }, { type: 'timer', name: 'retry' }))
    expect(urls).toEqual(['ws://a/ws', 'ws://b/ws?x=1', 'ws://a/ws', 'ws://a/ws?sid=s'])
  })
})

describe('session core: close codes and backoff', () => {
  it('1012 on an open session skips backoff (a spread under restartSpreadMs); during the handshake it backs off', () => {
    const h = harness({ random: () => 0.999, backoff: { minMs: 20_000, maxMs: 30_000 } })
    h.open()
    // Far under the 20 s backoff window: only the herd spread, and no backoff attempt consumed.
    expect(timers(h.step({ type: 'socket-close', code: CloseCode.SERVICE_RESTART, reason: '' }), 'retry')).toEqual([149.85])
    h.step({ type: 'timer', name: 'retry' }, { type: 'socket-open' })
    expect(timers(h.step({ type: 'socket-close', code: CloseCode.SERVICE_RESTART, reason: '' }), 'retry')).toEqual([19_980])

    const immediate = harness({ random: () => 0.999, backoff: { restartSpreadMs: 0 } })
    immediate.open()
    expect(timers(immediate.step({ type: 'socket-close', code: CloseCode.SERVICE_RESTART, reason: '' }), 'retry')).toEqual([0])
  })

  it('grows the window per failed attempt, capped, and resets only after the connection stayed up', () => {
    const h = harness({ random: () => 0.999, backoff: { minMs: 100, maxMs: 1000, factor: 2, resetAfterMs: 5000 } })
    h.step({ type: 'start' })
    const delays: (number | null)[] = []
    for (let i = 0; i < 6; i++) {
      delays.push(...timers(h.step({ type: 'socket-close', code: 1006, reason: '' }), 'retry'))
      h.step({ type: 'timer', name: 'retry' })
    }
    expect(delays).toEqual([99, 199, 399, 799, 999, 999])
    h.open()
    h.clock.t += 4999 // up, but not long enough to count as stable
    expect(timers(h.step({ type: 'socket-close', code: 1006, reason: '' }), 'retry')).toEqual([999])
    h.open({ resumed: true })
    h.clock.t += 5000
    expect(timers(h.step({ type: 'socket-close', code: 1006, reason: '' }), 'retry')).toEqual([99])
  })

  it('4401 / 4426 stop with CONNECTION_REFUSED and reject what is pending; reconnect() revives', () => {
    for (const code of [CloseCode.UNAUTHORIZED, CloseCode.UNSUPPORTED_VERSION]) {
      const h = harness()
      h.step({ type: 'start' }, { type: 'publish', topic: 'chat', data: 1, ticket: 'p1' }, { type: 'subscribe', topic: 'chat' })
      const e = h.step({ type: 'socket-close', code, reason: 'nope' })
      expect(h.core.state).toBe('closed')
      expect(emitted(e, 'error').map((x) => [x.code, x.closeCode])).toEqual([[ErrorCode.CONNECTION_REFUSED, code]])
      expect(settled(e)).toEqual([{ ticket: 'p1', code: ErrorCode.CONNECTION_REFUSED }])
      expect(e).toContainEqual(expect.objectContaining({ type: 'subscribed', topic: 'chat' }))
      expect(timers(e, 'retry')).toEqual([null])
      expect(h.step({ type: 'reconnect', why: 'app' })).toContainEqual(expect.objectContaining({ type: 'connect' }))
    }
  })

  it('4409 and unknown codes back off; reconnect() and online skip the wait', () => {
    const h = harness({ random: () => 0.999 })
    h.open()
    expect(timers(h.step({ type: 'socket-close', code: CloseCode.SESSION_MOVED, reason: '' }), 'retry')).toEqual([99])
    const e = h.step({ type: 'reconnect', why: 'online' })
    expect(timers(e, 'retry')).toEqual([null])
    expect(e).toContainEqual(expect.objectContaining({ type: 'connect' }))
    h.open({ resumed: true })
    expect(h.step({ type: 'reconnect', why: 'online' })).toEqual([]) // open: heartbeat covers a dead socket
    const r = h.step({ type: 'reconnect', why: 'app' })
    expect(r.map((x) => x.type)).toContain('disconnect')
    expect(r.map((x) => x.type)).toContain('connect')
  })
})

describe('session core: heartbeat', () => {
  it('re-arms for the remainder while frames arrive and drops the socket after timeoutMs of silence', () => {
    const h = harness()
    expect(timers(h.open({ timeoutMs: 5000 }), 'silence')).toEqual([5000])
    h.clock.t += 3000
    h.frame({ t: 'ping' })
    h.clock.t += 2000
    const e = h.step({ type: 'timer', name: 'silence' })
    expect(timers(e, 'silence')).toEqual([3000])
    expect(writes(h.take()).filter((f) => f.t === 'pong')).toHaveLength(1)
    h.clock.t += 3000
    const dead = h.step({ type: 'timer', name: 'silence' })
    expect(dead).toContainEqual(expect.objectContaining({ type: 'disconnect', code: CloseCode.HEARTBEAT_TIMEOUT }))
    expect(h.core.state).toBe('reconnecting')
  })

  it('gives up on a handshake that does not complete within connectTimeoutMs', () => {
    const h = harness({ connectTimeoutMs: 700 })
    expect(timers(h.step({ type: 'start' }), 'silence')).toEqual([700])
    h.step({ type: 'socket-open' })
    h.clock.t += 700
    expect(h.step({ type: 'timer', name: 'silence' })).toContainEqual(expect.objectContaining({ type: 'disconnect' }))
  })
})

describe('session core: bad input', () => {
  it('a malformed frame is an error event with BAD_SERVER_FRAME and a new connection, never a throw', () => {
    for (const text of ['{nope', '[]', '{"t":"msg","topic":"x"}', '{"t":"boom"}', new Uint8Array([1])]) {
      const h = harness()
      h.open()
      const e = h.step({ type: 'socket-frame', text })
      expect(emitted(e, 'error').map((x) => x.code)).toEqual([ErrorCode.BAD_SERVER_FRAME])
      expect(e).toContainEqual(expect.objectContaining({ type: 'disconnect', code: CloseCode.BAD_FRAME }))
    }
  })

  it('frames out of protocol order are bad frames too (msg before welcome, second welcome)', () => {
    const h = harness()
    h.step({ type: 'start' }, { type: 'socket-open' })
    // The bad frame, then the failed attempt it ended (it never reached welcome).
    expect(emitted(h.frame(msg('@inbox', 1)), 'error').map((e) => e.code)).toEqual([ErrorCode.BAD_SERVER_FRAME, ErrorCode.CONNECT_FAILED])
    h.open()
    const again = { t: 'welcome', session: { id: 's', token: 't' }, resumed: true, node: 'n', acked: 0, heartbeatMs: 1, timeoutMs: 1 }
    expect(emitted(h.frame(again), 'error')).toHaveLength(1)
  })

  it('refuses bad topics and unencodable data at the call, without touching the connection', () => {
    const h = harness()
    h.open()
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    const e = h.step(
      { type: 'publish', topic: 'has space', data: 1, ticket: 'a' },
      { type: 'publish', topic: '@other', data: 1, ticket: 'b' },
      { type: 'publish', topic: '@inbox', data: 1, ticket: 'b2' },
      { type: 'publish', topic: 'ok', data: cyclic, ticket: 'c' },
      { type: 'send', data: undefined, ticket: 'd' },
      { type: 'send', data: 10n, ticket: 'e' },
    )
    expect(settled(e).map((s) => s.code)).toEqual([
      ErrorCode.BAD_FRAME,
      ErrorCode.RESERVED_TOPIC,
      ErrorCode.RESERVED_TOPIC,
      ErrorCode.NOT_SERIALIZABLE,
      ErrorCode.NOT_SERIALIZABLE,
      ErrorCode.NOT_SERIALIZABLE,
    ])
    expect(writes(e)).toEqual([])
    expect(h.core.session.outbox.size).toBe(0)
  })
})
