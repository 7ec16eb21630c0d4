/**
 * Row "catch-up": a client offline while 10,000 messages were published to its topic, then back online: time
 * from "online" (the SDK's `reconnect()`, as the browser's `online` event triggers it) until every missed
 * message was delivered, i.e. the client is live again. One node (memory store); the network cut is made in
 * the client's WebSocket class (offline-switch.js). Baseline: partysocket on a plain ws server, its
 * `reconnect()` at the same moment: time until it is open again, and how many of the messages it got (none:
 * no replay). Target: ≤ 500 ms. The Lifeline client's messages are counted with the shared ledger
 * (@lifeline/devserver/testing/ledger): the publisher's messages are one stream, numbered by its seq.
 */
import ReconnectingWebSocket from 'partysocket/ws'
import { Ledger } from '@lifeline/devserver/testing/ledger'
import { startChild, waitUntil, withTimeout } from '../lib/proc.js'
import { openPublisher } from '../lib/raw-publisher.js'
import { offlineSwitch } from '../lib/offline-switch.js'
import { attempt, failed, count } from '../lib/line.js'
import { ratio } from '../lib/stats.js'
import { progress } from '../lib/log.js'

const TARGET_MS = 500
const MISSED = 10_000
/** Bound on waiting for the replay: 40× the target, so a slow replay is measured rather than cut. */
const WAIT_MS = 20_000

export async function run() {
  const base = await attempt(baseline)
  const life = await attempt(lifeline)
  /** @param {typeof base | typeof life} x */
  const fmt = (x) =>
    x.error !== undefined ? failed(x) : `${count(x.ms)} ms, ${count(x.recovered)}/${count(MISSED)} recovered` + (x.extra ? ` (${x.extra})` : '')
  return {
    lines: [
      {
        row: 'catch-up',
        measure: `offline during ${count(MISSED)} msgs: online → live`,
        lifeline: fmt(life),
        baseline: fmt(base),
        ratio: ratio(life.ms, base.ms),
        target: `≤ ${TARGET_MS} ms, all recovered`,
        holds: life.error !== undefined ? null : life.ms <= TARGET_MS && life.recovered === MISSED,
      },
    ],
    details: { baseline: base, lifeline: life },
  }
}

async function lifeline() {
  const { createClient } = await import('@lifeline/sdk')
  const node = await startChild('lifeline-node.js', { env: { BENCH_STORE: 'memory' } })
  const net = await offlineSwitch()
  /** @type {import('@lifeline/sdk').LifelineClient | undefined} */
  let client
  /** @type {Awaited<ReturnType<typeof openPublisher>> | undefined} */
  let pub
  try {
    const url = `ws://127.0.0.1:${/** @type {{ port: number }} */ (await node.call('info')).port}`
    const c = (client = createClient({ url, WebSocket: /** @type {import('@lifeline/sdk').WebSocketConstructor} */ (/** @type {unknown} */ (net.WebSocket)) }))
    const ledger = new Ledger()
    ledger.follow('client', c, (data) => {
      const i = /** @type {{ i?: unknown } | null} */ (data)?.i
      return typeof i === 'number' ? { stream: 'publisher', n: i } : undefined
    })
    // The wait below polls every millisecond while the replay runs: a plain counter, not a ledger count.
    let delivered = 0
    let gaps = 0
    c.on('message', () => void delivered++)
    c.on('gap', () => void gaps++)
    await withTimeout(c.subscribe('room-0'), 10_000, 'subscribe')
    ledger.reads('client', 'room-0')
    net.offline()
    await waitUntil(() => c.state !== 'open', 5_000)
    pub = await openPublisher('lifeline', url)
    for (let n = 1; n <= MISSED; n++) ledger.sent('room-0', { stream: 'publisher', n })
    await pub.publish('room-0', MISSED)
    progress('catch-up', `lifeline: ${MISSED} published while offline; back online`)
    const t0 = performance.now()
    net.online()
    c.reconnect()
    await waitUntil(() => delivered >= MISSED || gaps > 0, WAIT_MS, 1)
    const ms = Math.round(performance.now() - t0)
    const counts = ledger.counts()
    const extra = [
      counts.duplicated && `${counts.duplicated} dup`,
      counts.outOfOrder && `${counts.outOfOrder} out of order`,
      counts.gaps && `${counts.gaps} gap events`,
    ]
      .filter(Boolean)
      .join(', ')
    return { ms, recovered: counts.received, counts, extra }
  } finally {
    pub?.close()
    await client?.close().catch(() => {})
    await node.stop()
  }
}

async function baseline() {
  const server = await startChild('plain-server.js')
  const net = await offlineSwitch()
  /** @type {ReconnectingWebSocket | undefined} */
  let ws
  /** @type {Awaited<ReturnType<typeof openPublisher>> | undefined} */
  let pub
  try {
    const url = `ws://127.0.0.1:${/** @type {{ port: number }} */ (await server.call('info')).port}`
    let opens = 0
    let received = 0
    const sock = (ws = new ReconnectingWebSocket(`${url}/?room=room-0`, undefined, { WebSocket: net.WebSocket }))
    sock.addEventListener('open', () => opens++)
    sock.addEventListener('message', () => received++)
    await waitUntil(() => opens === 1, 10_000)
    net.offline()
    await waitUntil(() => sock.readyState !== sock.OPEN, 5_000)
    pub = await openPublisher('plain', url)
    await pub.publish('room-0', MISSED)
    const t0 = performance.now()
    net.online()
    sock.reconnect()
    const back = await waitUntil(() => opens === 2, WAIT_MS, 1)
    const ms = back ? Math.round(performance.now() - t0) : null
    return { ms, recovered: received, extra: back ? '' : `not open within ${WAIT_MS} ms` }
  } finally {
    pub?.close()
    ws?.close()
    await server.stop()
  }
}
