/**
 * createNode: a Lifeline node as a library. It attaches to an app's own http.Server or creates one, speaks the
 * protocol over `ws`, answers GET /healthz (on a server it created; an app's server can route to
 * `node.handleHealth`), pings clients, and drains for deploys.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { WebSocketServer } from 'ws'
import { isReservedTopic } from '@lifeline/protocol'
import { MemoryStore } from '../store/memory.js'
import { inboxTopic } from '../store/inbox.js'
import type { StoredMessage } from '../store/types.js'
import { newGeneration, newSessionId, randomSecret } from '../security/token.js'
import { TopicHub } from './hub.js'
import { resolveNodeOptions, type NodeOptions } from './options.js'
import { ClientSocket, type SocketHost } from './socket.js'
import { answerClientError, guardRequest, SERVER_OPTIONS } from '../http/guard.js'
import { ClusterErrorCode } from '../errors.js'

export type NodeStatus = 'running' | 'draining' | 'closed'

/** What GET /healthz answers. */
export interface NodeHealth {
  status: 'ok' | 'draining'
  id: string
  connections: number
}

export interface LifelineNode {
  readonly id: string
  readonly server: Server
  /** The port the server listens on (0 until an app-provided server listens). */
  readonly port: number
  /** ws://host:port of this node. */
  readonly url: string
  readonly status: NodeStatus
  /** Open client sockets. */
  readonly connections: number
  /** Server-originated publish (app code, admin): appended to `topic` and delivered like any client pub. */
  publish(topic: string, data: unknown): Promise<StoredMessage>
  /** Append to one session's `@inbox` (a direct message from the app). */
  sendToSession(sessionId: string, data: unknown): Promise<StoredMessage>
  health(): NodeHealth
  /** Answers GET /healthz (200 running, 503 draining/closed); returns false for any other request. */
  handleHealth(req: IncomingMessage, res: ServerResponse): boolean
  /** Stop accepting, flush pending acks, close every client with 1012; resolves within drainTimeoutMs. */
  drain(): Promise<void>
  /** Hard stop: sockets destroyed, timers cleared, an own server closed. Does not close a store it was given. */
  close(): Promise<void>
}

export async function createNode(options: NodeOptions = {}): Promise<LifelineNode> {
  const resolved = resolveNodeOptions(options)
  const id = options.id ?? `node-${randomBytes(3).toString('hex')}`
  const ownStore = !options.store
  const store = options.store ?? new MemoryStore()
  const userLog = options.log ?? (() => {})
  const log = (line: string): void => userLog(`[${id}] ${line}`)
  const hub = new TopicHub(store)
  const sockets = new Set<ClientSocket>()
  const bySession = new Map<string, ClientSocket>()
  let status: NodeStatus = 'running'

  const socketHost: SocketHost = {
    store,
    hub,
    options: resolved,
    core: {
      node: id,
      secret: options.secret ?? randomSecret(),
      heartbeatMs: resolved.heartbeatMs,
      timeoutMs: resolved.timeoutMs,
      sessionTtlMs: resolved.sessionTtlMs,
      maxFrameBytes: resolved.maxFrameBytes,
      maxSubscriptions: resolved.maxSubscriptions,
      rateLimit: resolved.rateLimit,
      authorize: resolved.authorize !== undefined,
      ids: { session: newSessionId, generation: newGeneration },
    },
    log,
    own(socket, session) {
      const older = bySession.get(session)
      if (older && older !== socket) older.run({ type: 'superseded' })
      bySession.set(session, socket)
    },
    forget(socket) {
      sockets.delete(socket)
      const session = socket.session
      if (session !== undefined && bySession.get(session) === socket) bySession.delete(session)
    },
  }

  const ownServer = !options.server
  const server = options.server ?? createServer(SERVER_OPTIONS)
  const wss = new WebSocketServer({
    server,
    ...(options.path ? { path: options.path } : {}),
    maxPayload: resolved.maxFrameBytes,
    // Refused at the HTTP upgrade while draining, so a balancer's retry lands on a healthy node.
    verifyClient: (_info, done) => (status === 'running' ? done(true) : done(false, 503, 'draining')),
  })
  wss.on('error', (e) => log(`server error: ${e.message}`))
  wss.on('connection', (ws, req) => {
    const socket = new ClientSocket(ws, req, socketHost)
    sockets.add(socket)
    if (status !== 'running') socket.run({ type: 'drain' })
  })

  // One timer for every connection: at 1 s granularity (or the heartbeat, if shorter) silence is caught in time.
  const timer = setInterval(() => {
    for (const socket of [...sockets]) socket.tick()
  }, Math.min(resolved.heartbeatMs, 1_000))
  timer.unref()

  const health = (): NodeHealth => ({ status: status === 'running' ? 'ok' : 'draining', id, connections: sockets.size })
  const handleHealth = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/healthz') return false
    const body = JSON.stringify(health())
    res.writeHead(status === 'running' ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    res.end(body)
    return true
  }
  if (ownServer) {
    server.on('clientError', answerClientError)
    server.on(
      'request',
      guardRequest((req, res) => {
        if (handleHealth(req, res)) return
        const body = { error: { code: ClusterErrorCode.NOT_FOUND, message: 'a node answers GET /healthz and WebSocket upgrades only' } }
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(body))
      }, log),
    )
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(resolved.port, resolved.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  }
  const host = resolved.host

  let draining: Promise<void> | undefined
  const drain = (): Promise<void> => {
    if (draining) return draining
    if (status === 'running') status = 'draining'
    draining = (async () => {
      const deadline = Date.now() + resolved.drainTimeoutMs
      const current = [...sockets]
      // Flush: every frame a connection already sent is handled and acked before its 1012. Each closes as soon
      // as its own queue is done (the core does that), so one client's slow store call does not hold back
      // everyone's reconnect.
      for (const socket of current) socket.run({ type: 'drain' })
      await before(deadline, Promise.all(current.map((c) => c.closed)))
      for (const socket of current) socket.terminate()
    })()
    return draining
  }

  const close = async (): Promise<void> => {
    if (status === 'closed') return
    status = 'closed'
    clearInterval(timer)
    for (const socket of [...sockets]) socket.terminate()
    hub.close()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
    if (ownServer) {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
    if (ownStore) await store.close()
  }

  const port = (): number => {
    const address = server.address()
    return address && typeof address === 'object' ? (address as AddressInfo).port : 0
  }
  return {
    id,
    server,
    get port() {
      return port()
    },
    get url() {
      return `ws://${host}:${port()}`
    },
    get status() {
      return status
    },
    get connections() {
      return sockets.size
    },
    publish(topic, data) {
      if (isReservedTopic(topic)) return Promise.reject(new Error(`publish: topic ${topic} is reserved; use sendToSession for an inbox`))
      return store.append(topic, data)
    },
    sendToSession(sessionId, data) {
      return store.append(inboxTopic(sessionId), data)
    },
    health,
    handleHealth,
    drain,
    close,
  }
}

/** Wait for `work`, but no later than `deadline`. */
async function before(deadline: number, work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))
  await Promise.race([work.then(() => undefined, () => undefined), timeout])
  clearTimeout(timer)
}
