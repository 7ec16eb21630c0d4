/**
 * The baseline server, "what apps use today": a plain `ws` broadcast server with rooms and no replay. A client
 * joins a room with `?room=<name>`; any frame `{"room", ...}` it receives is sent, unchanged, to every socket in
 * that room, and acknowledged to its sender with `{"ack": i}` (so a publisher can keep a bounded window, as the
 * Lifeline publisher does with `ack`). A frame without `room` (a client's upstream message) is only acknowledged.
 * On SIGTERM it behaves well: /healthz answers 503, every client is closed with 1012, and it exits.
 * No heartbeat: `ws` has none unless the app writes one, and partysocket sends none.
 *
 * With env BENCH_REDIS=redis://… (the production row: several servers behind HAProxy), a room frame is
 * published on one Redis pub/sub channel instead, and every server (this one too) sends what it hears there to
 * its own members of the room: the usual Redis fan-out of such apps, still without replay.
 * GET /healthz answers 200 while serving, 503 once draining, for HAProxy's health checks.
 */
import { createServer } from 'node:http'
import { WebSocketServer } from 'ws'
import { serve } from './proc.js'

const CHANNEL = 'bench:rooms'
/** @type {Map<string, Set<import('ws').WebSocket>>} */
const rooms = new Map()
let draining = false
const http = createServer((req, res) => {
  const ok = req.method === 'GET' && (req.url ?? '').split('?')[0] === '/healthz'
  res.writeHead(ok ? (draining ? 503 : 200) : 404).end()
})
const wss = new WebSocketServer({ server: http, perMessageDeflate: false })
await new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve(undefined)))

/**
 * @param {string} room
 * @param {string} text
 * @param {import('ws').WebSocket | null} except
 */
function toRoom(room, text, except) {
  for (const peer of rooms.get(room) ?? []) if (peer !== except) peer.send(text)
}

/** @type {((text: string) => void) | null} Publishes a room frame to every server through Redis, when BENCH_REDIS is set. */
let relay = null
if (process.env.BENCH_REDIS) {
  const { createClient } = await import('redis')
  const pub = createClient({ url: process.env.BENCH_REDIS })
  const sub = pub.duplicate()
  pub.on('error', () => {})
  sub.on('error', () => {})
  await Promise.all([pub.connect(), sub.connect()])
  await sub.subscribe(CHANNEL, (text) => {
    const room = /** @type {{ room?: string }} */ (JSON.parse(text)).room
    if (room) toRoom(room, text, null)
  })
  relay = (text) => void pub.publish(CHANNEL, text).catch(() => {})
}

wss.on('connection', (socket, req) => {
  const room = new URL(req.url ?? '/', 'http://x').searchParams.get('room')
  if (room) {
    let set = rooms.get(room)
    if (!set) rooms.set(room, (set = new Set()))
    set.add(socket)
    socket.once('close', () => set.delete(socket))
  }
  socket.on('message', (raw) => {
    /** @type {{ room?: string, i?: unknown }} */
    let frame
    try {
      frame = JSON.parse(raw.toString())
    } catch {
      return
    }
    const text = raw.toString()
    if (frame.room) relay ? relay(text) : toRoom(frame.room, text, socket)
    socket.send(`{"ack":${Number(frame.i) || 0}}`)
  })
})

process.on('SIGTERM', () => {
  draining = true
  http.close() // no new connections: HAProxy's retry goes elsewhere
  for (const socket of wss.clients) socket.close(1012, 'restart')
  setTimeout(() => process.exit(0), 200).unref()
})

serve({
  info: () => ({ port: /** @type {import('node:net').AddressInfo} */ (http.address()).port, pid: process.pid }),
  connections: () => wss.clients.size,
  memory: () => {
    globalThis.gc?.()
    globalThis.gc?.()
    return process.memoryUsage()
  },
})
