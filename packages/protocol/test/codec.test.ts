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
