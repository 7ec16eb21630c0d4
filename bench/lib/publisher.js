/**
 * The fault rows' publisher in a child of its own, so its CPU counts with the clients' and not the servers':
 * `{room, i}` at a steady rate, rooms in turn (pacer.js), i dense per room from 1.
 *  - `lifeline`: an SDK client publishing to its node (acknowledged; rejected publishes counted by error code);
 *  - `plain`: one `ws` socket per URL, each message sent to every live one (the fault rows' baseline, no bus),
 *    or to its one server, which relays it through Redis (the production row: one URL);
 *  - `socketio`: a socket.io-client emitting `pub` with an ack to its server, which emits to the room.
 */
import WS from 'ws'
import { io } from 'socket.io-client'
import { serve, withTimeout, waitUntil } from './proc.js'
import { startPacer } from './pacer.js'

/** @type {((room: string, i: number) => void) | null} */
let send = null
/** @type {(() => void) | null} */
let closeAll = null
/** @type {ReturnType<typeof startPacer> | null} */
let pacer = null
let inflight = 0
/** @type {Record<string, number>} */
const publishErrors = {}

/** @param {string} url */
async function openLifeline(url) {
  const { createClient } = await import('@lifeline/sdk')
  const pub = createClient({ url, WebSocket: /** @type {import('@lifeline/sdk').WebSocketConstructor} */ (/** @type {unknown} */ (WS)) })
  await withTimeout(pub.publish('warmup', { i: 0 }), 10_000, 'publisher warm-up')
  send = (room, i) => {
    inflight++
    pub
      .publish(room, { room, i })
      .catch((/** @type {{ code?: string } | null} */ e) => {
        const code = e?.code ?? 'unknown'
        publishErrors[code] = (publishErrors[code] ?? 0) + 1
      })
      .finally(() => inflight--)
  }
  closeAll = () => void pub.close().catch(() => {})
  return { sessionId: pub.sessionId }
}

/** @param {string[]} urls */
async function openPlain(urls) {
  /** @type {WS[]} */
  const socks = []
  for (const url of urls) {
    const ws = new WS(url, { perMessageDeflate: false })
    ws.on('error', () => {})
    await withTimeout(new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject))), 10_000, 'publisher connect')
    socks.push(ws)
  }
  send = (room, i) => {
    const text = JSON.stringify({ room, i })
    for (const ws of socks) if (ws.readyState === WS.OPEN) ws.send(text)
  }
  closeAll = () => socks.forEach((ws) => ws.terminate())
  return { sessionId: null }
}

/** @param {string} url */
async function openSocketio(url) {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnectionDelay: 100 })
  await withTimeout(new Promise((resolve) => socket.once('connect', () => resolve(undefined))), 10_000, 'publisher connect')
  send = (room, i) => {
    inflight++
    socket.emit('pub', { room, i }, () => inflight--)
  }
  closeAll = () => socket.close()
  return { sessionId: null }
}

serve({
  /** @param {{ kind: 'lifeline' | 'plain' | 'socketio', urls: string[] }} args */
  open({ kind, urls }) {
    const first = urls[0] ?? ''
    return kind === 'lifeline' ? openLifeline(first) : kind === 'socketio' ? openSocketio(first) : openPlain(urls)
  },
  /** @param {{ rate: number, rooms: number }} args */
  start({ rate, rooms }) {
    const fn = send
    if (!fn) throw new Error('publisher: open first')
    pacer = startPacer({ rate, rooms, send: fn })
    return true
  },
  /**
   * Stop publishing, wait (at most `settleMs`) for outstanding acks; what was published, by room.
   * @param {{ settleMs: number }} args
   */
  async stop({ settleMs }) {
    if (!pacer) throw new Error('publisher: not started')
    pacer.stop()
    await waitUntil(() => inflight === 0, settleMs, 20)
    return { published: pacer.published, sent: pacer.sent, publishErrors, unacked: inflight }
  },
  close() {
    closeAll?.()
    return true
  },
})
