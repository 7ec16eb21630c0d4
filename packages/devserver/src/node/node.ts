/**
 * createNode: a Lifeline node as a library. It attaches to an app's own http.Server or creates one, speaks the
 * protocol over `ws`, answers GET /healthz and the HTTP API for backends under /_lifeline/v1/ (on a server it
 * created; an app's server can route to `node.handleHealth` and `node.handleApi`), pings clients, and drains for
 * deploys.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
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
import { createApiHandler } from '../api/handler.js'
import { apiKeyMatcher } from '../security/api-keys.js'
import { createVerifier } from '../security/jwt.js'
import { disconnectUser, serveDisconnects, type DisconnectResult } from './disconnect.js'
import { NodeStats } from './stats.js'
import { NodeFaults } from './faults.js'

/**
 * Every node says it is alive in the store this often, for `store.nodes()` (who must answer a disconnect), and
 * counts as gone NODE_TTL_MS after its last word: three touches may fail (a store hiccup) before a live node is
 * left out, and a dead one stops being waited for within seconds.
 */
const NODE_TOUCH_MS = 2_000
const NODE_TTL_MS = 3 * NODE_TOUCH_MS

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
  /** Messages in and out, resumes and store calls, counted since the start (stats.ts; what the dashboard charts). */
  readonly stats: NodeStats
  /**
   * Network faults of this node's links (faults.ts): `faults.impair({ latencyMs: 300 })`, `faults.impair({
   * blackhole: true }, sessionId)`, `faults.heal()`. A cluster's supervisor sets them (cluster.impair); nothing
   * is impaired until asked.
   */
  readonly faults: NodeFaults
  /** Server-originated publish (app code, admin): appended to `topic` and delivered like any client pub. */
  publish(topic: string, data: unknown): Promise<StoredMessage>
  /** Append to one session's `@inbox` (a direct message from the app). */
  sendToSession(sessionId: string, data: unknown): Promise<StoredMessage>
  health(): NodeHealth
  /** Answers GET /healthz (200 running, 503 draining/closed); returns false for any other request. */
  handleHealth(req: IncomingMessage, res: ServerResponse): boolean
  /** Answers the HTTP API (/_lifeline/v1/…, api/handler.ts); returns false for any other request. */
  handleApi(req: IncomingMessage, res: ServerResponse): boolean
  /** Close every connection of `user` on every node of the cluster (POST /_lifeline/v1/disconnect does this). */
  disconnect(user: string): Promise<DisconnectResult>
  /**
   * Take a connection another process accepted and read the upgrade request of (`head`: those bytes, then
   * whatever followed them), as if it had arrived here: the cluster's balancer hands connections to its node
   * processes this way (balancer/handoff.ts). `watch` hears the session once the welcome named it, and the
   * socket's close. Returns false, having written nothing, when this node is draining or closed: the sender
   * still holds the connection and may route it elsewhere.
   */
  adopt(socket: Socket, head: Buffer, watch?: AdoptWatch): boolean
  /** Stop accepting, flush pending acks, close every client with 1012; resolves within drainTimeoutMs. */
  drain(): Promise<void>
  /** Hard stop: sockets destroyed, timers cleared, an own server closed. Does not close a store it was given. */
  close(): Promise<void>
}

/** What the sender of an adopted connection learns about it (LifelineNode.adopt). */
export interface AdoptWatch {
  identified(sessionId: string): void
  closed(): void
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
  /**
   * Every connection until its socket is gone, those `sockets` forgot while they close (a grace) included: close()
   * waits for them. ws would track them too (clientTracking), for a closure and a 'close' listener more on each
   * connection, about 150 bytes an idle one carries (the memory row).
   */
  const unclosed = new Set<ClientSocket>()
  const faults = new NodeFaults({ sockets: () => sockets, store, log })
  const bySession = new Map<string, ClientSocket>()
  /** Adopted connections' watchers: by raw socket until the upgrade, then by the ClientSocket it became. */
  const adopted = new WeakMap<Socket, AdoptWatch>()
  const watchers = new WeakMap<ClientSocket, AdoptWatch>()
  const stats = new NodeStats()
  let status: NodeStatus = 'running'
  // Checked now, so a bad key or secret fails createNode with the option named, not the first client.
  const verify = resolved.auth ? createVerifier(resolved.auth) : undefined
  const apiKey = resolved.apiKeys?.length ? apiKeyMatcher(resolved.apiKeys) : undefined

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
      authorize: resolved.authorize !== undefined || resolved.webhooks?.connect !== undefined,
      auth: verify !== undefined,
      ids: { session: newSessionId, generation: newGeneration },
    },
    verify,
    stats,
    log,
    own(socket, session) {
      const older = bySession.get(session)
      if (older && older !== socket) older.run({ type: 'superseded' })
      bySession.set(session, socket)
      if (faults.active) faults.owned(socket, session)
      watchers.get(socket)?.identified(session)
    },
    forget(socket) {
      sockets.delete(socket)
      const session = socket.session
      if (session !== undefined && bySession.get(session) === socket) bySession.delete(session)
    },
    gone(socket) {
      unclosed.delete(socket)
    },
  }

  const ownServer = !options.server
  const server = options.server ?? createServer(SERVER_OPTIONS)
  const wss = new WebSocketServer({
    server,
    ...(options.path ? { path: options.path } : {}),
    maxPayload: resolved.maxFrameBytes,
    // The node tracks its connections itself (`unclosed`).
    clientTracking: false,
    // Refused at the HTTP upgrade while draining, so a balancer's retry lands on a healthy node.
    verifyClient: (info, done) => {
      const admit = (): void => (status === 'running' ? done(true) : done(false, 503, 'draining'))
      // An impaired link holds or delays the handshake too (faults.ts); checked again once it is let through.
      if (faults.active && status === 'running') faults.admit(info.req, admit)
      else admit()
    },
  })
  wss.on('error', (e) => log(`server error: ${e.message}`))
  wss.on('connection', (ws, req) => {
    const socket = new ClientSocket(ws, req, socketHost)
    if (faults.active) faults.attach(socket, req)
    const watch = adopted.get(req.socket)
    if (watch) watchers.set(socket, watch)
    sockets.add(socket)
    unclosed.add(socket)
    if (status !== 'running') socket.run({ type: 'drain' })
  })

  // One timer for every connection: at 1 s granularity (or the heartbeat, if shorter) silence is caught in time.
  const timer = setInterval(() => {
    for (const socket of [...sockets]) socket.tick()
  }, Math.min(resolved.heartbeatMs, 1_000))
  timer.unref()

  const closeUser = (user: string): number => {
    let closed = 0
    for (const socket of [...sockets]) {
      if (socket.user !== user) continue
      socket.run({ type: 'disconnect' })
      closed++
    }
    if (closed) log(`disconnected ${closed} connection(s) of user ${JSON.stringify(user)}`)
    return closed
  }
  const stopServing = serveDisconnects(hub, store, id, closeUser, log)
  const touch = (): Promise<void> => Promise.resolve().then(() => store.touchNode(id, NODE_TTL_MS)).catch((e: unknown) => log(`store: could not register this node (${(e as Error)?.message ?? String(e)})`))
  await touch()
  const touchTimer = setInterval(() => void touch(), NODE_TOUCH_MS)
  touchTimer.unref()
  const disconnect = (user: string): Promise<DisconnectResult> => disconnectUser(hub, store, user, resolved.disconnectTimeoutMs)
  const handleApi = createApiHandler({ store, apiKey, maxBodyBytes: resolved.maxFrameBytes, idempotencyTtlMs: resolved.idempotencyTtlMs, disconnect, log })

  const health = (): NodeHealth => ({ status: status === 'running' ? 'ok' : 'draining', id, connections: sockets.size })
  const handleHealth = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/healthz') return false
    // A blackholed node answers nothing, its health checks included: the balancer's probes time out.
    if (faults.active && faults.holdHealth(res, () => handleHealth(req, res))) return true
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
        if (handleHealth(req, res) || handleApi(req, res)) return
        const body = { error: { code: ClusterErrorCode.NOT_FOUND, message: 'a node answers GET /healthz, the HTTP API under /_lifeline/v1/ and WebSocket upgrades' } }
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
    clearInterval(touchTimer)
    stopServing()
    for (const socket of [...sockets]) socket.terminate()
    hub.close()
    // As ws did with clientTracking: every connection's socket is gone first, those closing on their own too.
    await Promise.all([...unclosed].map((socket) => socket.closed))
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
    stats,
    faults,
    publish(topic, data) {
      if (isReservedTopic(topic)) return Promise.reject(new Error(`publish: topic ${topic} is reserved; use sendToSession for an inbox`))
      return store.append(topic, data)
    },
    sendToSession(sessionId, data) {
      return store.append(inboxTopic(sessionId), data)
    },
    health,
    handleHealth,
    handleApi,
    disconnect,
    adopt(socket, head, watch) {
      if (status !== 'running') {
        // Our descriptor only: the sender's copy keeps the connection open for another node.
        socket.destroy()
        return false
      }
      if (watch) {
        adopted.set(socket, watch)
        // Whatever ends it (a refused upgrade, a close, a terminate), the sender must close its copy too.
        socket.once('close', () => watch.closed())
      }
      server.emit('connection', socket)
      // The request was read by the sender: replay it into this server's parser, then read on from the socket.
      socket.emit('data', head)
      socket.resume()
      return true
    },
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
