/**
 * The baseline server, "what apps use today": a plain `ws` broadcast server with rooms and no replay. A client
 * joins a room with `?room=<name>`; any frame `{"room", ...}` it receives is sent, unchanged, to every socket in
 * that room, and acknowledged to its sender with `{"ack": i}` (so a publisher can keep a bounded window, as the
 * Lifeline publisher does with `ack`). On SIGTERM it behaves well: closes every client with 1012 and exits.
 * No heartbeat: `ws` has none unless the app writes one, and partysocket sends none.
 */
import { WebSocketServer } from 'ws'
import { serve } from './proc.js'

/** @type {Map<string, Set<import('ws').WebSocket>>} */
const rooms = new Map()
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
await new Promise((resolve) => wss.once('listening', resolve))

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
    for (const peer of rooms.get(frame.room ?? '') ?? []) if (peer !== socket) peer.send(text)
    socket.send(`{"ack":${Number(frame.i) || 0}}`)
  })
})

process.on('SIGTERM', () => {
  for (const socket of wss.clients) socket.close(1012, 'restart')
  setTimeout(() => process.exit(0), 200).unref()
})

serve({
  info: () => ({ port: /** @type {import('node:net').AddressInfo} */ (wss.address()).port, pid: process.pid }),
  connections: () => wss.clients.size,
  memory: () => {
    globalThis.gc?.()
    globalThis.gc?.()
    return process.memoryUsage()
  },
})
