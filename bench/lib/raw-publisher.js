/**
 * A publisher on one raw `ws` socket with a bounded window of unacknowledged messages, for the throughput and
 * catch-up rows. `lifeline` speaks the protocol (hello, pub with seq, cumulative ack); `plain` sends
 * `{room, i, …}` to the plain ws server, which acknowledges each with `{"ack": i}`. The window keeps both
 * honest: no side can win by buffering unboundedly. Message i carries `{i, pad}`: i is its seq, 1, 2, 3 …
 */
import WS from 'ws'
import { PROTOCOL_VERSION, decodeServerFrame } from '@lifeline/protocol'
import { withTimeout } from './proc.js'

/**
 * @param {'lifeline' | 'plain'} kind
 * @param {string} url
 */
export async function openPublisher(kind, url) {
  const ws = new WS(url, { perMessageDeflate: false })
  await withTimeout(new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject))), 10_000, 'publisher connect')
  let acked = 0
  let wake = () => {}
  let welcomed = () => {}
  /** @type {Promise<void>} */
  const welcome = new Promise((resolve) => (welcomed = resolve))
  ws.on('message', (buf) => {
    const text = String(buf)
    if (kind === 'plain') {
      const frame = /** @type {{ ack?: unknown }} */ (JSON.parse(text))
      if (typeof frame.ack === 'number') acked = Math.max(acked, frame.ack)
      return wake()
    }
    // Acks come at most once per window, so each frame can afford the protocol's own schema check.
    const decoded = decodeServerFrame(text)
    if (!decoded.ok) process.stderr.write(`publisher: bad frame from the node: ${text.slice(0, 200)}\n`)
    else if (decoded.frame.t === 'ack') acked = Math.max(acked, decoded.frame.seq)
    else if (decoded.frame.t === 'ping') ws.send('{"t":"pong"}')
    else if (decoded.frame.t === 'welcome') welcomed()
    else if (decoded.frame.t === 'error') process.stderr.write(`publisher: ${decoded.frame.code} ${decoded.frame.message}\n`)
    wake()
  })
  if (kind === 'lifeline') {
    ws.send(JSON.stringify({ t: 'hello', v: PROTOCOL_VERSION, subs: {} }))
    await withTimeout(welcome, 10_000, 'publisher welcome')
  }
  let seq = 0
  /**
   * @param {string} room
   * @param {string} pad
   */
  const sendOne = (room, pad) => {
    seq++
    const data = { i: seq, pad }
    ws.send(JSON.stringify(kind === 'plain' ? { room, ...data } : { t: 'pub', seq, topic: room, data }))
    return seq
  }
  return {
    /**
     * Publish `count` messages `{i, pad}` to `room` with at most `window` unacknowledged; resolves when all are acked.
     * @param {string} room
     * @param {number} count
     * @param {{ window?: number, pad?: string, timeoutMs?: number }} [options]
     */
    async publish(room, count, { window = 200, pad = 'x'.repeat(64), timeoutMs = 120_000 } = {}) {
      const end = Date.now() + timeoutMs
      const last = seq + count
      while (acked < last) {
        if (Date.now() > end) throw new Error(`publish timed out at ${acked - (last - count)}/${count} acked`)
        if (ws.readyState !== WS.OPEN) throw new Error('publisher socket closed')
        while (seq < last && seq - acked < window) sendOne(room, pad)
        await new Promise((resolve) => {
          wake = () => resolve(undefined)
          setTimeout(resolve, 50)
        })
      }
    },
    /**
     * Send `count` more messages now, without waiting for acks (the caller bounds what is in flight); returns
     * their i (seq), so the caller can count them.
     * @param {string} room
     * @param {number} count
     * @returns {number[]}
     */
    sendNow(room, count, pad = 'x'.repeat(64)) {
      const sent = []
      for (let k = 0; k < count; k++) sent.push(sendOne(room, pad))
      return sent
    },
    close: () => ws.terminate(),
  }
}
