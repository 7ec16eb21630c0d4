/**
 * Many light subscribers in one child process, for the rows that measure a server (throughput, memory): raw
 * `ws` sockets instead of SDK clients, so the client side costs the same for Lifeline and the baseline and the
 * figure is the server's. Every frame is parsed (JSON.parse, on both sides alike) and told apart by what it
 * is, not by searching its text: a message's data could contain `"t":"msg"` too.
 *  - `lifeline`: sends `hello` subscribing to its room live from now, counts `msg` frames, answers `ping`
 *    with `pong` (or the node would close it as silent).
 *  - `plain`: joins `?room=` on the plain ws server and counts every frame of its room.
 * During a `blast` each delivery also goes into a ledger (@lifeline/devserver/testing/ledger), so the row
 * knows whether the fast figure came with lost, duplicated or reordered messages.
 */
import WS from 'ws'
import { PROTOCOL_VERSION } from '@lifeline/protocol'
import { Ledger } from '@lifeline/devserver/testing/ledger'
import { serve, withTimeout, sleep } from './proc.js'
import { openPublisher } from './raw-publisher.js'

/** @typedef {import('@lifeline/devserver/testing/ledger').Counts} Counts */

/**
 * @typedef {object} Socket
 * @property {WS} ws
 * @property {string} name  its reader name in the ledger
 * @property {string} room
 * @property {number} n  messages of its room received since the last reset
 * @property {string | null} closed  how it was closed (`1006`, `1008 reason`), null while open
 */

/** @type {Socket[]} */
const sockets = []
let opened = 0
/**
 * The blast in progress: deliveries are counted into it. Its publisher's messages are one stream, numbered by
 * seq; each blast has a new publisher (seq from 1 again) and a new ledger, and waits for its last deliveries.
 */
let ledger = new Ledger()

/**
 * A frame's message, if it is one: `{topic, offset?, epoch?, i}` (the publisher's data is `{i, pad}`).
 * @param {'lifeline' | 'plain'} kind
 * @param {Record<string, unknown>} frame
 */
function messageOf(kind, frame) {
  if (kind === 'plain') return typeof frame.room === 'string' && typeof frame.i === 'number' ? { topic: frame.room, i: frame.i } : undefined
  if (frame.t !== 'msg' || typeof frame.topic !== 'string') return undefined
  const data = /** @type {{ i?: unknown } | null} */ (frame.data)
  if (typeof data?.i !== 'number') return undefined
  return { topic: frame.topic, offset: Number(frame.offset), epoch: String(frame.epoch), i: data.i }
}

/**
 * @param {'lifeline' | 'plain'} kind
 * @param {string} url
 * @param {string} room
 * @returns {Promise<Socket>}
 */
function open(kind, url, room) {
  return new Promise((resolve, reject) => {
    const ws = new WS(kind === 'plain' ? `${url}/?room=${room}` : url, { perMessageDeflate: false })
    /** @type {Socket} */
    const s = { ws, name: String(opened++), room, n: 0, closed: null }
    ws.once('error', reject)
    ws.once('close', (code, reason) => (s.closed = `${code}${reason.length ? ` ${reason}` : ''}`))
    ws.once('close', (code) => reject(new Error(`closed ${code} before ready`)))
    if (kind === 'plain') ws.once('open', () => resolve(s))
    else ws.once('open', () => ws.send(JSON.stringify({ t: 'hello', v: PROTOCOL_VERSION, subs: { [room]: null } })))
    ws.on('message', (buf) => {
      // The node is trusted here; a schema check per frame (decodeServerFrame) would weigh on the figure.
      const frame = /** @type {Record<string, unknown>} */ (JSON.parse(String(buf)))
      const m = messageOf(kind, frame)
      if (m) {
        if (m.topic !== s.room) return
        s.n++
        ledger.received({ reader: s.name, topic: m.topic, epoch: m.epoch, offset: m.offset, stream: 'publisher', n: m.i })
      } else if (frame.t === 'ping') ws.send('{"t":"pong"}')
      else if (frame.t === 'subscribed') resolve(s)
    })
  })
}

/** How the closed sockets were closed: `{"1006": 200}`; a server that dropped its subscribers says how here. */
function closeCodes() {
  /** @type {Record<string, number>} */
  const codes = {}
  for (const s of sockets) if (s.closed !== null) codes[s.closed] = (codes[s.closed] ?? 0) + 1
  return codes
}

serve({
  /**
   * Open `count` sockets, `batch` at a time (the server's accept queue is 511 deep); room = index % rooms.
   * @param {{ kind: 'lifeline' | 'plain', url: string, count: number, rooms: number, batch?: number, timeoutMs?: number }} args
   */
  async connect({ kind, url, count, rooms, batch = 200, timeoutMs = 120_000 }) {
    const end = Date.now() + timeoutMs
    for (let start = 0; start < count; start += batch) {
      const wave = []
      for (let k = start; k < Math.min(count, start + batch); k++) wave.push(open(kind, url, `room-${k % rooms}`))
      sockets.push(...(await withTimeout(Promise.all(wave), Math.max(1, end - Date.now()), `${kind} raw connect`)))
    }
    return sockets.length
  },
  /**
   * Resolve when every socket counted `perSocket` messages (or at the timeout): when, and how many came.
   * @param {{ perSocket: number, timeoutMs: number }} args
   */
  async waitCount({ perSocket, timeoutMs }) {
    const end = Date.now() + timeoutMs
    while (Date.now() < end && !sockets.every((s) => s.n >= perSocket)) await sleep(5)
    return { doneAt: Date.now(), total: sockets.reduce((a, s) => a + s.n, 0), open: sockets.filter((s) => s.ws.readyState === WS.OPEN).length }
  },
  /**
   * Closed-loop fan-out: a publisher in this process sends to `room` for `durationMs`, keeping at most `window`
   * messages beyond what the slowest subscriber has received, so neither server can look fast by buffering;
   * then waits (bounded) for the last deliveries. Every socket must be subscribed to `room`. `counts`: the
   * ledger's, over this blast (the publisher's messages are one stream, numbered by its seq).
   * Window 200: with 1,000 a Lifeline node's backlog to 200 subscribers reached seconds, its `ping` waited
   * behind it, the subscribers' `pong` came too late and the node closed them all with 4408 (seen 2026-11-29).
   * @param {{ kind: 'lifeline' | 'plain', url: string, room: string, durationMs: number, window?: number, drainMs?: number }} args
   */
  async blast({ kind, url, room, durationMs, window = 200, drainMs = 15_000 }) {
    const pub = await openPublisher(kind, url)
    try {
      ledger = new Ledger()
      for (const s of sockets) {
        s.n = 0
        ledger.reads(s.name, room)
      }
      const slowest = () => sockets.reduce((m, s) => Math.min(m, s.n), Infinity)
      /** @returns {Promise<void>} */
      const tick = () => new Promise((resolve) => setImmediate(resolve))
      const t0 = Date.now()
      let sent = 0
      const send = (/** @type {number} */ count) => {
        for (const n of pub.sendNow(room, count)) ledger.sent(room, { stream: 'publisher', n })
        sent += count
      }
      while (Date.now() - t0 < durationMs) {
        const ahead = sent - slowest()
        if (ahead < window) send(window - ahead)
        await tick()
      }
      const end = Date.now() + drainMs
      while (slowest() < sent && Date.now() < end) await tick()
      const doneAt = Date.now()
      const total = sockets.reduce((a, s) => a + Math.min(s.n, sent), 0)
      const open = sockets.filter((s) => s.ws.readyState === WS.OPEN).length
      return { t0, doneAt, sent, total, open, closes: closeCodes(), counts: ledger.counts() }
    } finally {
      pub.close()
    }
  },
  async close() {
    for (const s of sockets) s.ws.terminate()
    return sockets.length
  },
})
