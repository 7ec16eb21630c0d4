import { describe, expect, it } from 'vitest'
import { decodeClientFrame, decodeServerFrame, encode, ErrorCode, type ClientFrame } from '../src/index.js'

describe('decodeClientFrame', () => {
  it('round-trips every client frame', () => {
    const frames: ClientFrame[] = [
      { t: 'hello', v: 1, subs: { chat: { offset: 3, epoch: 'e1' }, news: null }, resume: { token: 'abc.def', lastSeq: 0 }, instance: 'i1' },
      { t: 'pub', seq: 1, topic: 'chat', data: { text: 'hi' } },
      { t: 'send', seq: 2, data: [1, 2] },
      { t: 'sub', topic: 'a/b:c', from: { offset: 0, epoch: 'e' } },
      { t: 'unsub', topic: 'chat' },
      { t: 'ping' },
      { t: 'pong' },
    ]
    for (const frame of frames) expect(decodeClientFrame(encode(frame))).toEqual({ ok: true, frame })
  })

  it("takes a subscription's start as a position, an offset without an epoch, or 'earliest' (hello.subs and sub.from)", () => {
    const frames: ClientFrame[] = [
      { t: 'hello', v: 1, subs: { a: 'earliest', b: { offset: 4 }, c: { offset: 2, epoch: 'e' }, d: null } },
      { t: 'sub', topic: 'x', from: 'earliest' },
      { t: 'sub', topic: 'x', from: { offset: 0 } },
    ]
    for (const frame of frames) expect(decodeClientFrame(encode(frame))).toEqual({ ok: true, frame })
    expect(decodeClientFrame('{"t":"hello","v":1,"subs":{"__proto__":"earliest"}}')).toMatchObject({ ok: true, frame: { subs: { ['__proto__']: 'earliest' } } })
    for (const bad of ['"latest"', '{"offset":-1}', '{"epoch":"e"}', '0']) {
      expect(decodeClientFrame(`{"t":"sub","topic":"x","from":${bad}}`)).toMatchObject({ ok: false, error: { code: ErrorCode.BAD_FRAME } })
    }
  })

  it('carries the user token (hello, auth) and presence flags, bounded; a `from` a client puts in its pub is dropped', () => {
    const frames: ClientFrame[] = [
      { t: 'hello', v: 1, subs: { room: null }, token: 'h.p.s', presence: ['room'] },
      { t: 'auth', token: 'h.p.s2' },
      { t: 'sub', topic: 'room', presence: true },
    ]
    for (const frame of frames) expect(decodeClientFrame(encode(frame))).toEqual({ ok: true, frame })
    expect(decodeClientFrame(`{"t":"auth","token":"${'x'.repeat(8193)}"}`)).toMatchObject({ ok: false, error: { code: ErrorCode.BAD_FRAME, message: 'auth.token: must be <= 8192 characters long' } })
    expect(decodeClientFrame('{"t":"hello","v":1,"subs":{},"presence":["@other"]}')).toMatchObject({ ok: false, error: { code: ErrorCode.BAD_FRAME } })
    expect(decodeClientFrame('{"t":"pub","seq":1,"topic":"t","data":1,"from":"mallory"}')).toEqual({ ok: true, frame: { t: 'pub', seq: 1, topic: 't', data: 1 } })
  })

  it('names BAD_JSON, UNKNOWN_FRAME and the wrong field', () => {
    expect(decodeClientFrame('{nope')).toMatchObject({ ok: false, error: { code: ErrorCode.BAD_JSON } })
    expect(decodeClientFrame('{"t":"boom"}')).toMatchObject({
      ok: false,
      error: { code: ErrorCode.UNKNOWN_FRAME, message: 'unknown frame type "boom"' },
    })
    expect(decodeClientFrame('[1]')).toMatchObject({ ok: false, error: { code: ErrorCode.UNKNOWN_FRAME } })
    expect(decodeClientFrame('{"t":"pub","seq":0,"topic":"x","data":1}')).toEqual({
      ok: false,
      error: { code: ErrorCode.BAD_FRAME, message: 'pub.seq: must be >= 1' },
    })
    expect(decodeClientFrame('{"t":"pub","seq":1,"topic":"has space","data":1}')).toMatchObject({
      ok: false,
      error: { code: ErrorCode.BAD_FRAME, message: expect.stringContaining('pub.topic') },
    })
    expect(decodeClientFrame('{"t":"send","seq":1}')).toEqual({
      ok: false,
      error: { code: ErrorCode.BAD_FRAME, message: 'send.data: is required' },
    })
  })

  it('refuses server frames from a client and client frames from a server', () => {
    expect(decodeClientFrame('{"t":"ack","seq":1}')).toMatchObject({ ok: false, error: { code: ErrorCode.UNKNOWN_FRAME } })
    expect(decodeServerFrame('{"t":"pub","seq":1,"topic":"x","data":1}')).toMatchObject({ ok: false })
  })
})

describe('decodeServerFrame', () => {
  it('accepts msg and subscribed with a gap', () => {
    expect(decodeServerFrame('{"t":"msg","topic":"x","offset":4,"epoch":"e","data":null}')).toMatchObject({ ok: true })
    const sub = { t: 'subscribed', topic: 'x', offset: 9, epoch: 'e', recovered: false, gap: { reason: 'retention', from: 2, to: 5 } }
    expect(decodeServerFrame(JSON.stringify(sub))).toEqual({ ok: true, frame: sub })
  })
  it('refuses a msg with offset 0', () => {
    expect(decodeServerFrame('{"t":"msg","topic":"x","offset":0,"epoch":"e","data":null}')).toMatchObject({
      ok: false,
      error: { code: ErrorCode.BAD_FRAME, message: 'msg.offset: must be >= 1' },
    })
  })
})
