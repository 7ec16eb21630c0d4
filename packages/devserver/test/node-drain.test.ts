/**
 * Drain, the deploy procedure of one node (what SIGTERM starts in a node process), with a raw `ws` client on
 * 127.0.0.1, port 0: the writes already queued are applied and acked, the client is closed with 1012, /healthz
 * turns 503 and new upgrades are refused, so a balancer sends the client's reconnect elsewhere.
 */
import { describe, expect, it } from 'vitest'
import { CloseCode } from '@lifeline/protocol'
import { MemoryStore } from '../src/store/memory.js'
import { isAck, RawClient } from './fixtures/raw-client.js'
import { useNodes } from './support/nodes.js'

const { start, connect } = useNodes({ secret: 'test-secret' })

describe('node: drain', () => {
  it('drains: flushes acks, closes clients with 1012, healthz turns 503, new upgrades refused', async () => {
    // A slow store keeps the 50 pubs queued on the node when drain starts: drain must wait for their acks.
    const store = new MemoryStore()
    const apply = store.apply.bind(store)
    store.apply = async (op) => {
      await new Promise((r) => setTimeout(r, 10))
      return apply(op)
    }
    const node = await start({ id: 'dr', store })
    const health = async () => {
      const res = await fetch(`http://127.0.0.1:${node.port}/healthz`)
      return { status: res.status, body: await res.json() }
    }
    const c = await connect(node)
    await c.hello({})
    expect(await health()).toEqual({ status: 200, body: { status: 'ok', id: 'dr', connections: 1 } })
    for (let seq = 1; seq <= 50; seq++) c.send({ t: 'pub', seq, topic: 'd', data: seq })
    await c.next(isAck(1))
    const started = Date.now()
    await node.drain()
    const drainMs = Date.now() - started
    expect((await c.closed).code).toBe(CloseCode.SERVICE_RESTART)
    const acks = c.frames.filter((f) => f.t === 'ack').map((f) => (f as { seq: number }).seq)
    console.log(`drain: ${drainMs} ms, last ack ${acks.at(-1)} of 50 sent`)
    expect(acks.at(-1)).toBe(50)
    expect(drainMs).toBeLessThan(5_000)
    expect((await health()).status).toBe(503)
    await expect(RawClient.connect(node.url)).rejects.toThrow(/503/)
  })
})
