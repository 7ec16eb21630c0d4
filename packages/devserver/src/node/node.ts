/**
 * createNode: a Lifeline node as a library. It attaches to an app's own http.Server or creates one, speaks the
 * protocol over `ws`, answers GET /healthz (on a server it created; an app's server can route to
 * `node.handleHealth`), pings clients, and drains for deploys.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { WebSocketServer } from 'ws'
import { CloseCode } from '@lifeline/protocol'
import { MemoryStore } from '../store/memory.js'
import { inboxTopic } from '../store/inbox.js'
import type { StoredMessage } from '../store/types.js'
import { randomSecret } from '../security/token.js'
import { Connection } from './connection.js'
import type { NodeContext, ResolvedOptions } from './context.js'
import { TopicHub } from './hub.js'
import { echoToInbox, NODE_DEFAULTS, type NodeOptions } from './options.js'
import { answerClientError, guardRequest, SERVER_OPTIONS } from '../http/guard.js'

export type NodeStatus = 'running' | 'draining' | 'closed'

export interface Health {
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
  health(): Health
  /** Answers GET /healthz (200 running, 503 draining/closed); returns false for any other request. */
  handleHealth(req: IncomingMessage, res: ServerResponse): boolean
  /** Stop accepting, flush pending acks, close every client with 1012; resolves within drainTimeoutMs. */
  drain(): Promise<void>
  /** Hard stop: sockets destroyed, timers cleared, an own server closed. Does not close a store it was given. */
  close(): Promise<void>
}

export async function createNode(options: NodeOptions = {}): Promise<LifelineNode> {
  const id = options.id ?? `node-${randomBytes(3).toString('hex')}`
  const ownStore = !options.store
  const store = options.store ?? new MemoryStore()
  const resolved: ResolvedOptions = {
    heartbeatMs: options.heartbeatMs ?? NODE_DEFAULTS.heartbeatMs,
    timeoutMs: options.timeoutMs ?? NODE_DEFAULTS.timeoutMs,
    sessionTtlMs: options.sessionTtlMs ?? NODE_DEFAULTS.sessionTtlMs,
    drainTimeoutMs: options.drainTimeoutMs ?? NODE_DEFAULTS.drainTimeoutMs,
    maxFrameBytes: options.maxFrameBytes ?? NODE_DEFAULTS.maxFrameBytes,
    rateLimit: options.rateLimit ?? NODE_DEFAULTS.rateLimit,
    maxBufferedBytes: options.maxBufferedBytes ?? NODE_DEFAULTS.maxBufferedBytes,
    maxSubscriptions: options.maxSubscriptions ?? NODE_DEFAULTS.maxSubscriptions,
    handlerTimeoutMs: options.handlerTimeoutMs ?? NODE_DEFAULTS.handlerTimeoutMs,
    authorize: options.authorize,
    onMessage: options.onMessage ?? echoToInbox,
  }
  const log = options.log ?? (() => {})
  const hub = new TopicHub(store)
  const connections = new Set<Connection>()
  const bySession = new Map<string, Connection>()
  let status: NodeStatus = 'running'

  const ctx: NodeContext = {
    id,
    store,
    hub,
    secret: options.secret ?? randomSecret(),
    options: resolved,
    log: (line) => log(`[${id}] ${line}`),
    own(conn, session) {
      const older = bySession.get(session)
      if (older && older !== conn) older.close(CloseCode.SESSION_MOVED, 'session moved to a newer connection')
      bySession.set(session, conn)
    },
    forget(conn) {
      connections.delete(conn)
      const session = conn.session
      if (session !== undefined && bySession.get(session) === conn) bySession.delete(session)
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
  wss.on('error', (e) => ctx.log(`server error: ${e.message}`))
  wss.on('connection', (ws, req) => {
    const conn = new Connection(ws, req, ctx)
    connections.add(conn)
    if (status !== 'running') conn.close(CloseCode.SERVICE_RESTART, 'draining')
  })

  // One timer for every connection: at 1 s granularity (or the heartbeat, if shorter) silence is caught in time.
  const timer = setInterval(() => {
    const now = Date.now()
    for (const conn of [...connections]) conn.tick(now)
  }, Math.min(resolved.heartbeatMs, 1_000))
  timer.unref()

  const health = (): Health => ({ status: status === 'running' ? 'ok' : 'draining', id, connections: connections.size })
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
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
      }, ctx.log),
    )
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? NODE_DEFAULTS.port, options.host ?? NODE_DEFAULTS.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  }
  const host = options.host ?? NODE_DEFAULTS.host

  let draining: Promise<void> | undefined
  const drain = (): Promise<void> => {
    if (draining) return draining
    if (status === 'running') status = 'draining'
    draining = (async () => {
      const deadline = Date.now() + resolved.drainTimeoutMs
      const current = [...connections]
      // Flush: every frame a connection already sent is handled and acked before its 1012. Each closes as soon
      // as its own queue is done, so one client's slow store call does not hold back everyone's reconnect.
      await Promise.all(
        current.map(async (conn) => {
          await before(deadline, conn.settle())
          conn.close(CloseCode.SERVICE_RESTART, 'node draining; reconnect now')
        }),
      )
      await before(deadline, Promise.all(current.map((c) => c.closed)))
      for (const conn of current) conn.terminate()
    })()
    return draining
  }

  const close = async (): Promise<void> => {
    if (status === 'closed') return
    status = 'closed'
    clearInterval(timer)
    for (const conn of [...connections]) conn.terminate()
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
      return connections.size
    },
    publish(topic, data) {
      if (topic.startsWith('@')) return Promise.reject(new Error(`publish: topic ${topic} is reserved; use sendToSession for an inbox`))
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
