/**
 * Bad input under load: thousands of malformed, oversized, forged and out-of-order frames from raw `ws`
 * clients while well-behaved clients publish and read. Every bad client gets a close code; the good ones
 * lose nothing and the node stays healthy.
 */
import { afterEach, expect, it } from 'vitest'
import { createNode, type LifelineNode } from '../src/node/node.js'
import { signSession } from '../src/security/token.js'
import { RawClient } from './fixtures/raw-client.js'

let node: LifelineNode | undefined
const clients: RawClient[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await node?.close()
})

const BIG = 'x'.repeat(1024 * 1024 + 10)
/** One bad frame of each kind; `i` varies it. */
const attacks: ((i: number) => string | Buffer)[] = [
  () => '{nope',
  () => '{"t":"boom"}',
  (i) => JSON.stringify({ t: 'pub', seq: i, topic: 'news', data: 'before hello' }),
  (i) => JSON.stringify({ t: 'hello', v: 1, subs: { '@inbox': null }, resume: { token: `victim${i}.1.${'A'.repeat(43)}`, lastSeq: 0 } }),
  () => JSON.stringify({ t: 'hello', v: 1, subs: {}, resume: { token: signSession('another-cluster', 'x', 1), lastSeq: 0 } }),
  () => JSON.stringify({ t: 'hello', v: 1, subs: { '@inbox:someone': null } }),
  () => Buffer.from([0xff, 0xfe, 0xfd]),
  () => '[]',
  () => 'null',
  () => JSON.stringify({ t: 'pub', seq: -1, topic: 'news', data: 1 }),
]

it('survives a flood of bad frames while good clients lose nothing', async () => {
  node = await createNode({ secret: 'flood' })
  const url = node.url
  const N = 1_000
  const readers = await Promise.all([1, 2, 3].map(() => RawClient.connect(url)))
  clients.push(...readers)
  for (const r of readers) {
    await r.hello({ news: null })
    await r.next((f) => f.t === 'subscribed')
  }
  const publisher = await RawClient.connect(url)
  clients.push(publisher)
  await publisher.hello({ '@inbox': null })

  const closeCodes = new Map<number, number>()
  let badFrames = 0
  let badClients = 0
  const attacker = async (n: number): Promise<void> => {
    const c = await RawClient.connect(url)
    if (n % 25 === 0) {
      c.send(BIG)
      badFrames += 1
    } else {
      // A burst: the node closes after the first, the rest arrive at a closing socket and are ignored.
      for (let i = 0; i < 30; i++) c.send(attacks[(n + i) % attacks.length]!(n * 100 + i + 1))
      badFrames += 30
    }
    const { code } = await c.closed
    badClients += 1
    closeCodes.set(code, (closeCodes.get(code) ?? 0) + 1)
  }

  const started = Date.now()
  const attack = (async () => {
    for (let wave = 0; wave < 10; wave++) await Promise.all(Array.from({ length: 20 }, (_, i) => attacker(wave * 20 + i)))
  })()
  // The publisher: a steady, well-behaved stream (at most 32 unacked, as an SDK outbox would keep), every tenth
  // a `send` echoed to its own inbox.
  let sent = 0
  let acked = 0
  const pump = (): void => {
    const last = publisher.frames.at(-1)
    if (last?.t === 'ack') acked = last.seq
    while (sent < N && sent - acked < 32) {
      sent += 1
      publisher.send(sent % 10 === 0 ? { t: 'send', seq: sent, data: sent } : { t: 'pub', seq: sent, topic: 'news', data: sent })
    }
  }
  publisher.ws.on('message', pump)
  pump()
  await publisher.next((f) => f.t === 'ack' && f.seq === N, 45_000, 0)
  await attack
  const news = N - N / 10
  await Promise.all(readers.map((r) => r.until(() => r.msgs('news').length >= news, 10_000)))
  await publisher.until(() => publisher.msgs('@inbox').length >= N / 10, 10_000)
  const elapsed = Date.now() - started

  let lost = 0
  let duplicated = 0
  let outOfOrder = 0
  for (const r of readers) {
    const data = r.msgs('news').map((m) => m.data as number)
    const expected = Array.from({ length: N }, (_, i) => i + 1).filter((i) => i % 10 !== 0)
    lost += expected.filter((x) => !data.includes(x)).length
    duplicated += data.length - new Set(data).size
    outOfOrder += data.filter((x, i) => i > 0 && x < data[i - 1]!).length
  }
  const codes = [...closeCodes].sort((a, b) => a[0] - b[0]).map(([c, k]) => `${c}×${k}`).join(' ')
  console.log(
    `bad-input flood: ${badFrames} bad frames from ${badClients} clients (closes ${codes}) in ${elapsed} ms; ` +
      `3 readers × ${news} msgs + ${N / 10} echoes: lost ${lost}, duplicated ${duplicated}, out of order ${outOfOrder}`,
  )
  expect({ lost, duplicated, outOfOrder }).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0 })
  expect(badClients).toBe(200)
  expect(badFrames).toBeGreaterThan(5_000)
  // Every bad client was closed with a protocol code, never left hanging or dropped without one.
  for (const code of closeCodes.keys()) expect([1007, 1009, 4400, 4403]).toContain(code)
  const health = await fetch(`http://127.0.0.1:${node.port}/healthz`)
  expect(health.status).toBe(200)
  expect(elapsed).toBeLessThan(45_000)
})
