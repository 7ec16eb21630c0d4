/**
 * The second baseline's server: Socket.IO 4.8 with the Redis Streams adapter (@socket.io/redis-streams-adapter
 * 0.3.1, on the node-redis 6 client the devserver uses) and connection state recovery (2 min), WebSocket
 * transport only. Env BENCH_REDIS=redis://… is the shared Redis of all servers.
 *  - A client joins the room of its handshake query (`?room=`), unless `socket.recovered` (its rooms came back).
 *  - `pub {room, i}` (the publisher): `io.to(room).emit('m', {room, i})`, through the adapter (a Redis stream
 *    every server reads) to every server's members of the room; acknowledged to the publisher.
 *  - `up` (a client's upstream message): acknowledged.
 *  - GET /healthz: 200 while serving, 503 once draining (HAProxy's health check).
 *  - SIGTERM: what Socket.IO's maintainers recommend, `io.close()`: every socket is closed with "server shutting
 *    down", one of the reasons in RECOVERABLE_DISCONNECT_REASONS (socket.io/dist/socket.js), so the adapter
 *    persists each session (SET in Redis, not awaited by io.close); the Redis client is then closed, which waits
 *    for those writes, and the process exits. A client's reconnect to another server restores it from there.
 *    SIGKILL persists nothing: those clients reconnect as new sessions (socket.recovered false).
 */
import { createServer } from 'node:http'
import { Server } from 'socket.io'
import { createAdapter } from '@socket.io/redis-streams-adapter'
import { createClient } from 'redis'
import { serve } from './proc.js'

const url = process.env.BENCH_REDIS
if (!url) throw new Error('socketio-server.js needs BENCH_REDIS=redis://…')
const redis = createClient({ url })
redis.on('error', () => {})
await redis.connect()

let draining = false
const http = createServer((req, res) => {
  if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/healthz') res.writeHead(draining ? 503 : 200).end()
  // Anything else that is not Socket.IO's own path: not found (Socket.IO answers its path before this).
  else if (!(req.url ?? '').startsWith('/socket.io/')) res.writeHead(404).end()
})
const io = new Server(http, {
  adapter: createAdapter(redis),
  connectionStateRecovery: { maxDisconnectionDuration: 120_000 },
  transports: ['websocket'],
  perMessageDeflate: false,
})
io.on('connection', (socket) => {
  const room = socket.handshake.query.room
  if (!socket.recovered && typeof room === 'string') socket.join(room)
  socket.on('pub', (/** @type {{ room?: unknown }} */ m, /** @type {unknown} */ ack) => {
    if (typeof m?.room === 'string') io.to(m.room).emit('m', m)
    if (typeof ack === 'function') ack()
  })
  socket.on('up', (/** @type {unknown} */ _m, /** @type {unknown} */ ack) => {
    if (typeof ack === 'function') ack()
  })
})
await new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve(undefined)))

process.on('SIGTERM', async () => {
  draining = true
  await io.close().catch(() => {})
  // Bounded: Redis answering within 2 s or not, the process leaves.
  await Promise.race([redis.close().catch(() => {}), new Promise((r) => setTimeout(r, 2_000))])
  process.exit(0)
})

serve({
  info: () => ({ port: /** @type {import('node:net').AddressInfo} */ (http.address()).port, pid: process.pid }),
  connections: () => io.engine.clientsCount,
})
