/**
 * A publisher on one raw `ws` socket with a bounded window of unacknowledged messages, for the throughput and
 * catch-up rows. `lifeline` speaks the protocol (hello, pub with seq, cumulative ack); `plain` sends
 * `{room, i, …}` to the plain ws server, which acknowledges each with `{"ack": i}`. The window keeps both
 * honest: no side can win by buffering unboundedly.
 */
import WS from 'ws'
import { PROTOCOL_VERSION } from '@lifeline/protocol'
import { withTimeout } from './proc.js'

export async function openPublisher(kind, url) {
  const ws = new WS(url, { perMessageDeflate: false })
  await withTimeout(new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject))), 10_000, 'publisher connect')
  let acked = 0
  let wake = () => {}
  ws.on('message', (buf) => {
    const frame = JSON.parse(buf.toString())
    if (kind === 'plain' && typeof frame.ack === 'number') acked = Math.max(acked, frame.ack)
    else if (frame.t === 'ack') acked = Math.max(acked, frame.seq)
    else if (frame.t === 'ping') ws.send('{"t":"pong"}')
    else if (frame.t === 'error') process.stderr.write(`publisher: ${frame.code} ${frame.message}\n`)
    wake()
  })
  if (kind === 'lifeline') {
    const welcome = new Promise((resolve) => ws.on('message', (buf) => buf.indexOf('"t":"welcome"') !== -1 && resolve()))
    ws.send(JSON.stringify({ t: 'hello', v: PROTOCOL_VERSION, subs: {} }))
    await withTimeout(welcome, 10_000, 'publisher welcome')
  }
  let seq = 0
  return {
    /** Publish `count` messages `{i, pad}` to `room` with at most `window` unacknowledged; resolves when all are acked. */
    async publish(room, count, { window = 200, pad = 'x'.repeat(64), timeoutMs = 120_000 } = {}) {
      const end = Date.now() + timeoutMs
      const last = seq + count
      while (acked < last) {
        if (Date.now() > end) throw new Error(`publish timed out at ${acked - (last - count)}/${count} acked`)
        if (ws.readyState !== WS.OPEN) throw new Error('publisher socket closed')
        while (seq < last && seq - acked < window) {
          seq++
          const data = { i: seq, pad }
          ws.send(JSON.stringify(kind === 'plain' ? { room, ...data } : { t: 'pub', seq, topic: room, data }))
        }
        await new Promise((resolve) => {
          wake = resolve
          setTimeout(resolve, 50)
        })
      }
    },
    /** Send `count` more messages now, without waiting for acks (the caller bounds what is in flight). */
    sendNow(room, count, pad = 'x'.repeat(64)) {
      for (let k = 0; k < count; k++) {
        seq++
        const data = { i: seq, pad }
        ws.send(JSON.stringify(kind === 'plain' ? { room, ...data } : { t: 'pub', seq, topic: room, data }))
      }
    },
    close: () => ws.terminate(),
  }
}
