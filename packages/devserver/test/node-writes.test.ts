/**
 * Writes on one node, from raw `ws` clients on 127.0.0.1, port 0: `pub` and `send` with their `seq`, the
 * cumulative `ack`, the onMessage handler run once per seq (its effects committed with it, or not at all when it
 * throws), and every refusal of a write with its code: a skipped seq, a reserved topic, a failing store.
 */
import { describe, expect, it } from 'vitest'
import { CloseCode, ErrorCode } from '@lifeline/protocol'
import { MemoryStore } from '../src/store/memory.js'
import type { ApplyOp, ApplyResult } from '../src/store/types.js'
import { isAck } from './fixtures/raw-client.js'
import { useNodes } from './support/nodes.js'

const { start, connect } = useNodes({ secret: 'test-secret' })

describe('node: pubs queued behind an apply', () => {
  /**
   * A Store written before ApplyOp.through existed: it applies `seq` alone, by the rule every store had. It
   * does not declare `appliesBatches`, so the node must hand it one seq per apply.
   */
  class SeqByOneStore extends MemoryStore {
    override readonly appliesBatches = false
    override async apply(op: ApplyOp): Promise<ApplyResult> {
      const { through: _ignored, ...one } = op
      return super.apply(one)
    }
  }

  for (const [name, make] of [['a store that applies batches (MemoryStore)', () => new MemoryStore()], ['a store that does not know batches', () => new SeqByOneStore()]] as const) {
    it(`are applied once each, in order, acked cumulatively: ${name}`, async () => {
      const store = make()
      const node = await start({ store })
      const c = await connect(node)
      await c.hello({ '@inbox': null })
      for (let seq = 1; seq <= 50; seq++) c.send({ t: 'pub', seq, topic: 'burst', data: seq })
      await c.next(isAck(50), 10_000)
      const log = (await store.read('burst', 1, 100)).map((m) => m.data)
      expect(log).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
      expect(c.frames.filter((f) => f.t === 'error')).toEqual([])
      expect(c.closedAt).toBeUndefined()
    })
  }
})

describe('node: the send handler', () => {
  it('runs onMessage with ctx.publish/ctx.reply and commits its effects with the seq, once', async () => {
    let runs = 0
    const node = await start({
      onMessage: (ctx, data) => {
        runs += 1
        ctx.publish('room', { from: ctx.session.id, data })
        ctx.reply('got it')
      },
    })
    const c = await connect(node)
    await c.hello({ '@inbox': null, room: null })
    await c.next((f) => f.t === 'subscribed' && f.topic === 'room')
    c.send({ t: 'send', seq: 1, data: 'hey' })
    c.send({ t: 'send', seq: 1, data: 'hey' }) // a resend: acked, handler not run again
    await c.next((f) => f.t === 'ack', 5000, c.frames.findIndex((f) => f.t === 'ack') + 1)
    await c.until(() => c.msgs('room').length === 1 && c.msgs('@inbox').length === 1)
    expect(runs).toBe(1)
  })

  it('refuses a send whose handler throws (HANDLER_FAILED with its seq, nothing applied) and goes on with the next', async () => {
    const store = new MemoryStore()
    let runs = 0
    const node = await start({
      store,
      onMessage: (ctx, data) => {
        runs += 1
        ctx.publish('side', data)
        if (data === 'poison') throw new Error('cannot handle poison')
        ctx.reply(data)
      },
    })
    const a = await connect(node)
    await a.hello({ '@inbox': null })
    a.send({ t: 'send', seq: 1, data: 'poison' })
    a.send({ t: 'send', seq: 2, data: 'fine' })
    await a.next(isAck(2))
    const error = a.frames.find((f) => f.t === 'error')
    expect(error).toMatchObject({ code: ErrorCode.HANDLER_FAILED, seq: 1, message: expect.stringContaining('cannot handle poison') })
    await a.until(() => a.msgs('@inbox').length === 1)
    expect(a.msgs('@inbox').map((m) => m.data)).toEqual(['fine'])
    // The refused send's ctx.publish was not applied; the next send's was, once.
    expect((await store.read('side', 1, 10)).map((m) => m.data)).toEqual(['fine'])
    expect(runs).toBe(2)
    // A resend of the refused seq is a duplicate: acked, the handler not run again.
    a.send({ t: 'send', seq: 1, data: 'poison' })
    await a.until(() => a.frames.filter((f) => f.t === 'ack').length >= 3)
    expect(runs).toBe(2)
  })
})

describe('node: writes', () => {
  it('acks a duplicate seq without applying it twice', async () => {
    const store = new MemoryStore()
    const node = await start({ store })
    const c = await connect(node)
    await c.hello({})
    for (const seq of [1, 2, 2, 1, 3]) c.send({ t: 'pub', seq, topic: 'dup', data: seq })
    await c.until(() => c.frames.filter((f) => f.t === 'ack').length === 5)
    expect(c.frames.filter((f) => f.t === 'ack').map((f) => (f as { seq: number }).seq)).toEqual([1, 2, 2, 2, 3])
    expect((await store.read('dup', 1, 10)).map((m) => m.data)).toEqual([1, 2, 3])
    console.log(`duplicate seq: 5 pubs sent, ${(await store.head('dup')).last} applied, 0 duplicated`)
  })

  it('closes 4422 with SEQ_GAP when a seq skips ahead', async () => {
    const c = await connect(await start())
    await c.hello({})
    c.send({ t: 'pub', seq: 2, topic: 'x', data: 1 })
    expect((await c.closed).code).toBe(CloseCode.SEQ_GAP)
    expect(c.frames.at(-1)).toMatchObject({ t: 'error', code: ErrorCode.SEQ_GAP, message: 'expected seq 1, got 2: resend from 1' })
    // No `seq`: the op was not consumed, the client keeps it and resends it after reconnecting.
    expect(c.frames.at(-1)).not.toHaveProperty('seq')
  })

  it('refuses a pub to @inbox with RESERVED_TOPIC, consuming its seq (error, then ack)', async () => {
    const c = await connect(await start())
    await c.hello({})
    c.send({ t: 'pub', seq: 1, topic: '@inbox', data: 'forged' })
    c.send({ t: 'pub', seq: 2, topic: 'ok', data: 1 })
    await c.next(isAck(2))
    const tail = c.frames.filter((f) => f.t === 'error' || f.t === 'ack')
    expect(tail).toEqual([
      expect.objectContaining({ t: 'error', code: ErrorCode.RESERVED_TOPIC, seq: 1 }),
      { t: 'ack', seq: 1 },
      { t: 'ack', seq: 2 },
    ])
  })

  it('answers STORE_UNAVAILABLE and does not ack when the store fails', async () => {
    const store = new MemoryStore()
    store.apply = () => Promise.reject(new Error('down'))
    const c = await connect(await start({ store }))
    await c.hello({})
    c.send({ t: 'pub', seq: 1, topic: 'x', data: 1 })
    expect((await c.closed).code).toBe(CloseCode.STORE_UNAVAILABLE)
    expect(c.frames.some((f) => f.t === 'ack')).toBe(false)
    expect(c.frames.at(-1)).toMatchObject({ t: 'error', code: ErrorCode.STORE_UNAVAILABLE, seq: 1 })
  })
})
