/**
 * Many light subscribers in one child process, for the rows that measure a server (throughput, memory): raw
 * `ws` sockets that count frames without parsing them, so the client side costs the same for Lifeline and the
 * baseline and the figure is the server's.
 *  - `lifeline`: sends `hello` subscribing to its room live from now, counts `msg` frames, answers `ping`
 *    with `pong` (or the node would close it as silent).
 *  - `plain`: joins `?room=` on the plain ws server and counts every frame.
 */
import WS from 'ws'
import { PROTOCOL_VERSION } from '@lifeline/protocol'
import { serve, withTimeout, sleep } from './proc.js'
import { openPublisher } from './raw-publisher.js'

const MSG = Buffer.from('"t":"msg"')
const PING = Buffer.from('"t":"ping"')
const SUBSCRIBED = Buffer.from('"t":"subscribed"')
/** @type {{ws: WS, n: number}[]} */
const sockets = []

function open(kind, url, room) {
  return new Promise((resolve, reject) => {
    const ws = new WS(kind === 'plain' ? `${url}/?room=${room}` : url, { perMessageDeflate: false })
    const s = { ws, n: 0, closed: null }
    ws.once('error', reject)
    ws.once('close', (code, reason) => (s.closed = `${code}${reason.length ? ` ${reason}` : ''}`))
    ws.once('close', (code) => reject(new Error(`closed ${code} before ready`)))
    if (kind === 'plain') {
      ws.once('open', () => resolve(s))
      ws.on('message', () => s.n++)
      return
    }
    ws.once('open', () => ws.send(JSON.stringify({ t: 'hello', v: PROTOCOL_VERSION, subs: { [room]: null } })))
    ws.on('message', (buf) => {
      if (buf.indexOf(MSG) !== -1) s.n++
      else if (buf.indexOf(PING) !== -1) ws.send('{"t":"pong"}')
      else if (buf.indexOf(SUBSCRIBED) !== -1) resolve(s)
    })
  })
}

/** How the closed sockets were closed: `{"1006": 200}`; a server that dropped its subscribers says how here. */
function closeCodes() {
  const codes = {}
  for (const s of sockets) if (s.closed !== null) codes[s.closed] = (codes[s.closed] ?? 0) + 1
  return codes
}

serve({
  /** Open `count` sockets, `batch` at a time (the server's accept queue is 511 deep); room = index % rooms. */
  async connect({ kind, url, count, rooms, batch = 200, timeoutMs = 120_000 }) {
    const end = Date.now() + timeoutMs
    for (let start = 0; start < count; start += batch) {
      const wave = []
      for (let k = start; k < Math.min(count, start + batch); k++) wave.push(open(kind, url, `room-${k % rooms}`))
      sockets.push(...(await withTimeout(Promise.all(wave), Math.max(1, end - Date.now()), `${kind} raw connect`)))
    }
    return sockets.length
  },
  /** Resolve when every socket counted `perSocket` messages (or at the timeout): when, and how many came. */
  async waitCount({ perSocket, timeoutMs }) {
    const end = Date.now() + timeoutMs
    while (Date.now() < end && !sockets.every((s) => s.n >= perSocket)) await sleep(5)
    return { doneAt: Date.now(), total: sockets.reduce((a, s) => a + s.n, 0), open: sockets.filter((s) => s.ws.readyState === WS.OPEN).length }
  },
  /**
   * Closed-loop fan-out: a publisher in this process sends to `room` for `durationMs`, keeping at most `window`
   * messages beyond what the slowest subscriber has received, so neither server can look fast by buffering;
   * then waits (bounded) for the last deliveries. Every socket must be subscribed to `room`.
   * Window 200: with 1,000 a Lifeline node's backlog to 200 subscribers reached seconds, its `ping` waited
   * behind it, the subscribers' `pong` came too late and the node closed them all with 4408 (seen 2026-11-29).
   */
  async blast({ kind, url, room, durationMs, window = 200, drainMs = 15_000 }) {
    const pub = await openPublisher(kind, url)
    try {
      for (const s of sockets) s.n = 0
      const slowest = () => sockets.reduce((m, s) => Math.min(m, s.n), Infinity)
      const tick = () => new Promise((resolve) => setImmediate(resolve))
      const t0 = Date.now()
      let sent = 0
      while (Date.now() - t0 < durationMs) {
        const ahead = sent - slowest()
        if (ahead < window) {
          pub.sendNow(room, window - ahead)
          sent += window - ahead
        }
        await tick()
      }
      const end = Date.now() + drainMs
      while (slowest() < sent && Date.now() < end) await tick()
      const doneAt = Date.now()
      const total = sockets.reduce((a, s) => a + Math.min(s.n, sent), 0)
      const open = sockets.filter((s) => s.ws.readyState === WS.OPEN).length
      return { t0, doneAt, sent, total, open, closes: closeCodes() }
    } finally {
      pub.close()
    }
  },
  async close() {
    for (const s of sockets) s.ws.terminate()
    return sockets.length
  },
})
