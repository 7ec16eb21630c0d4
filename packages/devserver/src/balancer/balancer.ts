/**
 * The balancer: one HTTP port that routes WebSocket upgrades to nodes, sticky by session, forwards the nodes'
 * HTTP API (/_lifeline/v1/…, forward.ts) to one of them, and answers other plain HTTP with whatever `onRequest`
 * serves (the supervisor mounts the admin API there). A connection to a node
 * process of this one (the cluster's) is handed to it (handoff.ts): the node then talks to the client
 * directly. Any other node is proxied to (tunnel.ts).
 *
 * Routing: `?sid=` present → rendezvous hashing over routable nodes (see rendezvous.ts); absent → least
 * connections (see spread.ts). Routable = health up and not draining. A node leaves routing on: 2 failed
 * probes, a probe saying it drains, a refused connection (at once), or `down()` from the supervisor when its
 * process exits (at once, closing its proxied sockets so clients notice in milliseconds, not at the heartbeat).
 */
import { EventEmitter } from 'node:events'
import http from 'node:http'
import type { Duplex } from 'node:stream'
import { Socket, type AddressInfo } from 'node:net'
import { pickRendezvous } from './rendezvous.js'
import { LeastConnections } from './spread.js'
import { ConnectionTable } from './connections.js'
import { HEALTH_DEFAULTS, initialHealth, nextHealth, probe, type Health, type HealthOptions, type HealthState, type ProbeResult } from './health.js'
import { rejectUpgrade, requestHead, sessionIdOf } from './upgrade.js'
import { ClusterErrorCode, ERROR_STATUS, errorBody } from '../errors.js'
import { answerClientError, guardRequest, SERVER_OPTIONS } from '../http/guard.js'
import { parseTarget, quoteInput } from '../http/parse.js'
import { openTunnel, type TunnelEvents } from './tunnel.js'
import { forwardRequest, type ForwardRoute } from './forward.js'
import { API_PREFIX } from '../api/routes.js'
import type { BackendAddress, BackendChange, BackendInfo, BalancerOptions } from './types.js'

export type { BackendAddress, BackendChange, BackendInfo, BalancerOptions } from './types.js'

/**
 * Where a backend stands for routing: one value, set by `add`, then changed only by `move`, which also emits `change`.
 *   serving   routed to while `health` is up (health.ts counts the probe results that flip it).
 *   draining  out of routing because the node is leaving. `by: 'told'`: setDraining (the supervisor's drain or
 *             SIGTERM), or the node refused an upgrade with 503 (a node never stops draining): lasts until the
 *             backend is replaced. `by: 'healthz'`: the node's own healthz says it drains; its next 200 ends it.
 *             Health is still counted: a draining node that stops answering is reported down (its sockets are
 *             left to it, see judge).
 */
type Routing = { type: 'serving'; health: HealthState } | { type: 'draining'; by: 'told' | 'healthz'; health: HealthState }

interface Backend extends BackendAddress {
  routing: Routing
  /** The health check in flight, if any: a node whose probe is still running skips a round rather than doubling it. */
  inFlight: Promise<ProbeResult> | undefined
}

export class Balancer extends EventEmitter<{ change: [BackendChange] }> {
  private readonly server: http.Server
  private readonly backendsById = new Map<string, Backend>()
  private readonly table = new ConnectionTable()
  private readonly spread = new LeastConnections()
  private readonly health: HealthOptions
  private readonly closeOnDown: boolean
  private readonly log: (line: string) => void
  private timer: NodeJS.Timeout | undefined
  private boundPort = 0

  constructor(private readonly options: BalancerOptions = {}) {
    super()
    this.health = { ...HEALTH_DEFAULTS, ...options.health }
    this.closeOnDown = options.closeOnDown ?? true
    const log = options.log ?? ((line: string) => console.error(line))
    this.log = (line) => log(`[balancer] ${line}`)
    const onRequest = options.onRequest ?? notFound
    // The nodes' HTTP API is theirs: forwarded to one of them. Everything else is `onRequest`'s (the admin API).
    const route: ForwardRoute = {
      pick: (tried) => this.backendsById.get(this.route(undefined, tried) ?? ''),
      refused: (id, err) => this.markDown(id, `refused (${err.code ?? err.message})`, false),
    }
    this.server = http.createServer(
      SERVER_OPTIONS,
      guardRequest((req, res) => ((req.url ?? '').startsWith(API_PREFIX) ? forwardRequest(req, res, route) : onRequest(req, res)), this.log),
    )
    this.server.on('clientError', answerClientError)
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head))
  }

  get host(): string {
    return this.options.host ?? '127.0.0.1'
  }
  get port(): number {
    return this.boundPort
  }
  /** ws:// URL clients connect to (a wildcard host is shown as loopback, which it includes). */
  get url(): string {
    return `ws://${this.displayHost}:${this.boundPort}`
  }

  /** The host part for URLs: loopback for a wildcard bind, IPv6 in brackets. */
  get displayHost(): string {
    if (this.host === '0.0.0.0') return '127.0.0.1'
    if (this.host === '::') return '[::1]'
    return this.host.includes(':') ? `[${this.host}]` : this.host
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.options.port ?? 0, this.host, () => resolve())
    })
    this.boundPort = (this.server.address() as AddressInfo).port
    this.timer = setInterval(() => this.probeAll(), this.health.intervalMs)
  }

  /** Route to a node. It starts up (the supervisor adds it once it said it listens); probes keep it honest. */
  add(address: BackendAddress): void {
    // Same id, new process (a restart): whatever is left of the old one's connections goes with it.
    const closed = this.backendsById.has(address.id) ? this.table.closeAll(address.id) : 0
    const backend: Backend = { ...address, routing: { type: 'serving', health: initialHealth('up') }, inFlight: undefined }
    this.backendsById.set(address.id, backend)
    this.emit('change', { id: address.id, ...viewOf(backend.routing), reason: `added on port ${address.port}`, closed })
  }

  /** Stop routing to a node and close its proxied sockets. */
  remove(id: string, reason = 'removed'): void {
    if (!this.backendsById.delete(id)) return
    const closed = this.table.closeAll(id)
    this.emit('change', { id, health: 'down', draining: false, reason, closed })
  }

  /** The node's process is gone: out of routing and its sockets closed now, without waiting for probes. */
  down(id: string, reason: string): void {
    this.markDown(id, reason, true)
  }

  /** Out of (or back into) routing without touching its sockets: the node closes them itself with 1012. */
  setDraining(id: string, draining: boolean, reason = draining ? 'draining' : 'undrained'): void {
    const backend = this.backendsById.get(id)
    if (!backend) return
    const { health } = backend.routing
    // Told wins over healthz: a drain the supervisor asked for is not undone by a 200 from the node.
    this.move(backend, draining ? { type: 'draining', by: 'told', health } : { type: 'serving', health }, reason)
  }

  backends(): BackendInfo[] {
    return [...this.backendsById.values()].map((b) => ({
      id: b.id,
      host: b.host,
      port: b.port,
      ...viewOf(b.routing),
      routable: isRoutable(b),
      connections: this.table.count(b.id),
    }))
  }

  connections(id: string): number {
    return this.table.count(id)
  }

  /** The node holding the session's newest live connection, if any. */
  nodeOf(sessionId: string): string | undefined {
    return this.table.nodeOf(sessionId)
  }

  /** The node a connection would be routed to now (`exclude`: nodes already tried for this connection). */
  route(sessionId: string | undefined, exclude: ReadonlySet<string> = new Set()): string | undefined {
    const candidates = [...this.backendsById.values()].filter((b) => isRoutable(b) && !exclude.has(b.id))
    if (sessionId) return pickRendezvous(sessionId, candidates.map((b) => b.id))
    return this.spread.pick(candidates.map((b) => ({ id: b.id, connections: this.table.count(b.id) })))
  }

  /** Stops listening and probing and closes every proxied socket. */
  async close(): Promise<void> {
    clearInterval(this.timer)
    this.table.closeAll()
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  /**
   * `closeSockets` false when only new connections are refused: a node that stopped listening may still be
   * draining its existing ones (and if its process died, the kernel has closed them already).
   */
  private markDown(id: string, reason: string, closeSockets: boolean): void {
    const backend = this.backendsById.get(id)
    if (!backend) return
    this.move(backend, { ...backend.routing, health: initialHealth('down') }, reason, closeSockets)
  }

  /**
   * The one place a backend's routing changes. `closeSockets`: cut its proxied connections too. Emits `change`
   * when what it shows (health, draining) changed or sockets were closed; a change of counts alone is silent.
   */
  private move(backend: Backend, next: Routing, reason: string, closeSockets = false): void {
    const before = viewOf(backend.routing)
    backend.routing = next
    const after = viewOf(next)
    const closed = closeSockets ? this.table.closeAll(backend.id) : 0
    if (before.health !== after.health || before.draining !== after.draining || closed > 0) {
      this.emit('change', { id: backend.id, ...after, reason, closed })
    }
  }

  /** Like guardRequest for plain requests: an upgrade we cannot read is answered 400, our own throw 500. */
  private onUpgrade(req: http.IncomingMessage, client: Duplex, head: Buffer): void {
    client.on('error', () => client.destroy())
    try {
      const target = parseTarget(req.url)
      if (!target) return rejectUpgrade(client, ClusterErrorCode.BAD_REQUEST, `request target ${quoteInput(req.url)} is not a path or an absolute URL`)
      this.connect(req, client, head, sessionIdOf(target.url), new Set())
    } catch (e) {
      this.log(`upgrade ${quoteInput(req.url)} failed: ${String(e)}; answered 500`)
      rejectUpgrade(client, ClusterErrorCode.INTERNAL, `the balancer failed on this upgrade (${String(e)}); it is logged, and the balancer keeps serving`)
    }
  }

  private connect(req: http.IncomingMessage, client: Duplex, head: Buffer, sid: string | undefined, tried: Set<string>): void {
    const nodeId = this.route(sid, tried)
    const backend = nodeId === undefined ? undefined : this.backendsById.get(nodeId)
    if (!backend) return rejectUpgrade(client, ClusterErrorCode.NO_NODE, 'no healthy node')
    if (client.destroyed) return
    const conn = this.table.open(backend.id, client, sid)
    const events: TunnelEvents = {
      identified: (sessionId) => this.table.identify(conn, sessionId),
      closed: () => {
        conn.destroy()
        this.table.forget(conn)
      },
      refused: (err) => {
        this.table.forget(conn)
        this.markDown(backend.id, `refused (${err.code ?? err.message})`, false)
        tried.add(backend.id)
        this.connect(req, client, head, sid, tried)
      },
      unavailable: () => {
        this.table.forget(conn)
        this.setDraining(backend.id, true, 'refused an upgrade with 503')
        tried.add(backend.id)
        this.connect(req, client, head, sid, tried)
      },
    }
    if (backend.handoff && client instanceof Socket) {
      conn.handedOff = true
      backend.handoff.pass(conn.serial, client, Buffer.concat([Buffer.from(requestHead(req), 'latin1'), head]), events)
    } else {
      conn.upstream = openTunnel(req, client, head, backend, events)
    }
  }

  private probeAll(): void {
    for (const backend of this.backendsById.values()) {
      if (backend.inFlight) continue
      backend.inFlight = probe(backend.host, backend.port, this.health.timeoutMs)
      void backend.inFlight.then((result) => {
        backend.inFlight = undefined
        if (this.backendsById.get(backend.id) !== backend) return // removed or replaced meanwhile
        this.judge(backend, result)
      })
    }
  }

  /** One probe result → the backend's next routing (each step through `move`). */
  private judge(backend: Backend, result: ProbeResult): void {
    const r = backend.routing
    // A node saying it drains is alive and answering: out of routing at once, but not a health failure.
    if (!result.ok && result.draining) {
      if (r.type === 'serving') this.move(backend, { type: 'draining', by: 'healthz', health: r.health }, 'node reports draining')
      return
    }
    if (result.ok && r.type === 'draining' && r.by === 'healthz') this.move(backend, { type: 'serving', health: r.health }, 'node no longer reports draining')
    const now = backend.routing
    const health = nextHealth(now.health, result.ok, this.health)
    const flipped = health.health !== now.health.health
    const reason = result.ok ? 'probe ok' : `probe: ${result.reason}`
    // A draining node closes its own clients (1012); cutting them here would only lose its flush.
    const cut = flipped && health.health === 'down' && this.closeOnDown && now.type !== 'draining'
    this.move(backend, { ...now, health }, reason, cut)
  }
}

/** What a backend shows in `backends()` and `change`: its health, and whether it is out of routing for leaving. */
function viewOf(r: Routing): { health: Health; draining: boolean } {
  return { health: r.health.health, draining: r.type === 'draining' }
}

function isRoutable(b: Backend): boolean {
  return b.routing.type === 'serving' && b.routing.health.health === 'up'
}

function notFound(_req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(ERROR_STATUS.NOT_FOUND, { 'content-type': 'application/json' })
  res.end(JSON.stringify(errorBody(ClusterErrorCode.NOT_FOUND, 'this port proxies WebSocket upgrades only')))
}

/** Creates a balancer and starts listening. */
export async function createBalancer(options: BalancerOptions = {}): Promise<Balancer> {
  const balancer = new Balancer(options)
  await balancer.listen()
  return balancer
}
