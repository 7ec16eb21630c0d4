/**
 * Bad input on one node, from raw `ws` clients on 127.0.0.1, port 0: a frame over maxFrameBytes, text that is
 * not JSON, not a known frame or not a valid one, anything before `hello` or a second `hello`, an unsupported
 * protocol version, and a client past its rate limit. Each is answered with its error code and close code.
 */
import { describe, expect, it } from 'vitest'
import { CloseCode, ErrorCode, type ErrorFrame } from '@lifeline/protocol'
import { useNodes } from './support/nodes.js'

const { start, connect } = useNodes({ secret: 'test-secret' })

describe('node: bad input', () => {
  it('closes 1009 on a frame over maxFrameBytes', async () => {
    const c = await connect(await start({ maxFrameBytes: 1024 }))
    await c.hello({})
    c.send({ t: 'pub', seq: 1, topic: 'x', data: 'y'.repeat(2000) })
    expect((await c.closed).code).toBe(CloseCode.TOO_BIG)
  })

  it.each([
    ['{nope', ErrorCode.BAD_JSON],
    ['{"t":"boom"}', ErrorCode.UNKNOWN_FRAME],
    ['{"t":"hello","v":1}', ErrorCode.BAD_FRAME],
  ])('answers %s with an error frame (%s) and closes 4400', async (text, code) => {
    const c = await connect(await start())
    c.send(text)
    expect((await c.closed).code).toBe(CloseCode.BAD_FRAME)
    expect(c.frames).toEqual([expect.objectContaining({ t: 'error', code })])
  })

  it('requires hello first (HELLO_EXPECTED, 4400) and only once', async () => {
    const node = await start()
    const c = await connect(node)
    c.send({ t: 'pub', seq: 1, topic: 'x', data: 1 })
    expect((await c.closed).code).toBe(CloseCode.BAD_FRAME)
    expect(c.frames[0]).toMatchObject({ t: 'error', code: ErrorCode.HELLO_EXPECTED })
    const twice = await connect(node)
    await twice.hello({})
    twice.sendHello({})
    expect((await twice.closed).code).toBe(CloseCode.BAD_FRAME)
  })

  it('closes 4426 on an unsupported protocol version', async () => {
    const c = await connect(await start())
    c.send({ t: 'hello', v: 99, subs: {} })
    expect((await c.closed).code).toBe(CloseCode.UNSUPPORTED_VERSION)
  })

  it('closes 4429 past the per-connection rate limit', async () => {
    const c = await connect(await start({ rateLimit: { perSecond: 10, burst: 20 } }))
    await c.hello({})
    for (let i = 0; i < 100; i++) c.send({ t: 'ping' })
    expect((await c.closed).code).toBe(CloseCode.RATE_LIMITED)
    expect(c.frames.some((f) => f.t === 'error' && (f as ErrorFrame).code === ErrorCode.RATE_LIMITED)).toBe(true)
  })
})
