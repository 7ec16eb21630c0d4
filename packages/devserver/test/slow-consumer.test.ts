/**
 * Slow consumers: a client that stops reading, or reads slower than its topic is written. Past the node's
 * output bound (maxBufferedBytes) it is cut without slowing the clients that keep up, and it must hear why, 1013
 * (try again later; its resume replays), promptly: not a 1006 because the close frame sat behind megabytes of
 * output it could not read in time. The node's memory for that socket stays bounded meanwhile.
 */
import { expect, it } from 'vitest'
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import { CloseCode } from '@lifeline/protocol'
import { MemoryStore } from '../src/store/memory.js'
import { RawClient } from './fixtures/raw-client.js'
import { useNodes } from './support/nodes.js'
import { waitFor } from './support/wait.js'

// (node:net's `connect` is the slow link's.)
const { start, connect: client } = useNodes({ secret: 'slow' })

/**
 * A TCP proxy that passes the node's bytes to the client at `bytesPerTick` every 20 ms (and the client's to the
 * node freely): the slow link of a phone, with backpressure all the way to the node's socket.
 */
async function slowLink(target: number, bytesPerTick: number): Promise<{ port: number; close(): void }> {
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1')
    sockets.add(client).add(upstream)
    client.pipe(upstream)
    upstream.pause()
    const timer = setInterval(() => {
      let budget = bytesPerTick
      for (let chunk = upstream.read() as Buffer | null; chunk && budget > 0; chunk = budget > 0 ? (upstream.read() as Buffer | null) : null) {
        if (chunk.length > budget) upstream.unshift(chunk.subarray(budget))
        client.write(chunk.subarray(0, budget))
        budget -= chunk.length
      }
    }, 20)
    const done = () => (clearInterval(timer), client.destroy(), upstream.destroy())
    upstream.on('end', () => setTimeout(done, 2_000)).on('error', done)
    client.on('error', done).on('close', done)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy()
      server.close()
    },
  }
}

it('a slow reader past maxBufferedBytes gets close 1013 within a few seconds, not 1006', async () => {
  const store = new MemoryStore()
  const node = await start({ store })
  const link = await slowLink(node.port, 16 * 1024) // at most 800 KB/s
  const c = await RawClient.connect(`ws://127.0.0.1:${link.port}`)
  let received = 0
  c.ws.on('message', (data: Buffer) => (received += data.length))
  const closed = c.closed.then(({ code }) => ({ code, at: c.closedAt as number }))
  await c.hello({ flood: null })
  await c.next((f) => f.t === 'subscribed' && f.topic === 'flood')
  const payload = 'x'.repeat(16 * 1024)
  const t0 = Date.now()
  for (let i = 0; i < 2_000; i++) await store.append('flood', payload) // 32 MB, far past the 8 MiB bound
  const appendedMs = Date.now() - t0
  const end = await Promise.race([closed, new Promise<{ code: number; at: number }>((r) => setTimeout(() => r({ code: -1, at: Date.now() }), 20_000))])
  console.log(`[slow-consumer] close ${end.code} after ${end.at - t0} ms (flood appended in ${appendedMs} ms); client read ${(received / 1e6).toFixed(1)} MB`)
  link.close()
  expect(end.code).toBe(CloseCode.SLOW_CONSUMER)
  expect(end.at - t0).toBeLessThan(10_000)
  c.close()
})

it('closes a client that stops reading once its unsent output passes maxBufferedBytes, without slowing others', async () => {
  const node = await start({ maxBufferedBytes: 512 * 1024 })
  const slow = await client(node)
  await slow.hello({ firehose: null })
  await slow.next((f) => f.t === 'subscribed')
  const fast = await client(node)
  await fast.hello({ firehose: null })
  await fast.next((f) => f.t === 'subscribed')
  slow.ws.pause() // stops reading: the kernel buffers fill, then the node's
  const publisher = await client(node)
  await publisher.hello({})
  const N = 1_000
  const payload = 'p'.repeat(16 * 1024)
  // Paced by acks, so a reader that keeps up never has much unsent; only the paused one piles up.
  for (let seq = 1; seq <= N; seq++) {
    publisher.send({ t: 'pub', seq, topic: 'firehose', data: payload })
    await publisher.next((f) => f.t === 'ack' && f.seq === seq, 10_000, publisher.frames.length - 3)
  }
  await fast.until(() => fast.msgs('firehose').length === N, 15_000)
  await waitFor(() => node.connections === 2, 'the slow client cut (2 connections left)', 5_000)
  slow.ws.resume()
  const closed = await slow.closed
  console.log(`slow consumer: closed ${closed.code} after ${slow.msgs('firehose').length} of ${N} msgs; fast client got ${fast.msgs('firehose').length}`)
  expect([CloseCode.SLOW_CONSUMER, 1006]).toContain(closed.code)
  expect(slow.msgs('firehose').length).toBeLessThan(N)
})
