/**
 * A simulated node: the real connection core (packages/devserver/src/node/core) for each client link, and the
 * real live fan-out of the Redis store (store/redis-live.ts) and topic hub (node/hub.ts) between it and the
 * simulated store. This file is the adapter: the sim's counterpart of node/socket.ts and node/node.ts, with
 * the network and the store's latency in between, and the faults of a process: crash, drain, freeze and thaw.
 *
 * A frozen node runs nothing: what arrives meanwhile (frames, store replies, live messages) waits, and on thaw
 * it is read before any timer runs, as Node reads sockets first after a SIGCONT.
 */
import { ConnectionCore } from '../../packages/devserver/src/node/core/connection.js'
import type { CoreConfig, Effect, Input, StoreCall, StoreReply } from '../../packages/devserver/src/node/core/types.js'
import { TopicHub } from '../../packages/devserver/src/node/hub.js'
import { LiveFanout, type LiveSource } from '../../packages/devserver/src/store/redis-live.js'
import type { Store, StoredMessage, TopicHead } from '../../packages/devserver/src/store/types.js'
import type { Clock, Random, Timer } from './clock.js'
import type { Link } from './net.js'
import type { SimStore } from './store.js'

/** How long a node waits for the store before a call fails (the Redis store's commandTimeoutMs). */
const COMMAND_TIMEOUT_MS = 2_000
const DRAIN_TIMEOUT_MS = 5_000

interface Conn {
  link: Link
  core: ConnectionCore
  listening: Map<string, () => void>
}

/** What a node needs from the world around it. */
export interface NodeWorld {
  clock: Clock
  random: Random
  store: SimStore
  /** Store round trip, one way, ms. */
  storeLatencyMs: number
  /** Calls queued while the store hangs (run in order when it answers again). */
  gate(run: () => void): void
  /** Restarts of the store so far: a live message published before one is lost with the connection. */
  readonly storeRestarts: number
  trace(line: string): void
  /** The node exited (crash or end of a drain). */
  exited(node: SimNode): void
}

export class SimNode {
  alive = true
  draining = false
  frozenSince: number | undefined
  /** Set by the `freeze-handshake` fault: the next accepted connection's hello finds this node frozen for so long. */
  freezeAfterAccept: number | undefined
  private readonly conns = new Map<number, Conn>()
  private readonly bySession = new Map<string, Conn>()
  private readonly parked: (() => void)[] = []
  private readonly fanout: LiveFanout
  private readonly hub: TopicHub
  private readonly storeListeners = new Map<string, () => void>()
  private lastArrival = 0
  private lastLive = 0
  private tickTimer: Timer | undefined

  constructor(
    readonly id: string,
    private readonly world: NodeWorld,
    private readonly config: CoreConfig,
  ) {
    this.fanout = new LiveFanout(this.liveSource(), () => undefined)
    this.hub = new TopicHub({ subscribe: (t: string, l: (m: StoredMessage) => void, r?: () => void) => this.fanout.subscribe(t, l, r) } as unknown as Store)
    this.scheduleTick()
  }

  get connections(): number {
    return this.conns.size
  }

  /** An upgrade arrived on `link`: a new connection core. */
  accept(link: Link): boolean {
    if (!this.alive || this.draining) return false
    const conn: Conn = { link, core: new ConnectionCore(this.config, this.world.clock.now), listening: new Map() }
    this.conns.set(link.id, conn)
    const pause = this.freezeAfterAccept
    if (pause !== undefined) {
      // The 101 went out; the process stops before it reads the hello (a GC pause, a SIGSTOP at that instant).
      this.freezeAfterAccept = undefined
      this.world.trace(`node ${this.id} freezes right after an upgrade, for ${pause} ms`)
      this.freeze()
      this.world.clock.after(pause, () => this.thaw())
    }
    link.ends = {
      ...link.ends,
      toNode: (text) => this.io(() => this.run(conn, { type: 'frame', text, bytes: text.length })),
      nodeClosed: () => this.io(() => this.gone(conn)),
    }
    return true
  }

  /** The store is back (restarted): the fan-out re-reads every topic it serves, as the Redis store does on `ready`. */
  storeBack(): void {
    if (this.alive) this.io(() => this.fanout.resyncAll())
  }

  // ------------------------------------------------------------------ faults

  crash(why: string): void {
    if (!this.alive) return
    this.alive = false
    this.tickTimer?.cancel()
    this.parked.length = 0
    for (const off of this.storeListeners.values()) off()
    this.storeListeners.clear()
    // The process is gone: the kernel closes its sockets, the balancer its proxied ones, at once.
    for (const c of this.conns.values()) c.link.cutClientOnly()
    this.conns.clear()
    this.world.trace(`node ${this.id} exits (${why})`)
    this.world.exited(this)
  }

  drain(): void {
    if (!this.alive || this.draining || this.frozenSince !== undefined) return
    this.draining = true
    for (const c of [...this.conns.values()]) this.run(c, { type: 'drain' })
    const done = () => (this.conns.size === 0 ? this.crash('drained') : undefined)
    done()
    this.world.clock.after(DRAIN_TIMEOUT_MS, () => this.crash('drain timeout'))
  }

  freeze(): void {
    if (this.alive) this.frozenSince = this.world.clock.now
  }

  thaw(): void {
    if (this.frozenSince === undefined) return
    this.frozenSince = undefined
    const waiting = this.parked.splice(0)
    for (const run of waiting) if (this.alive) run()
  }

  /** The balancer marked this frozen node down and closed its proxied sockets. */
  cutAll(): void {
    for (const c of this.conns.values()) c.link.cut()
  }

  // ------------------------------------------------------------------ inside

  /** Something reached the node: handled now, or after the thaw if it is frozen. */
  private io(run: () => void): void {
    if (!this.alive) return
    if (this.frozenSince !== undefined) this.parked.push(run)
    else run()
  }

  private scheduleTick(): void {
    const every = Math.min(this.config.heartbeatMs, 1_000)
    this.tickTimer = this.world.clock.after(every, () => {
      if (!this.alive) return
      // A frozen process runs no timer; after the thaw the next one comes, after everything read meanwhile.
      if (this.frozenSince === undefined) for (const c of [...this.conns.values()]) this.run(c, { type: 'tick' })
      this.scheduleTick()
    })
  }

  private run(conn: Conn, input: Input): void {
    if (!this.alive || this.conns.get(conn.link.id) !== conn) return
    const effects = conn.core.handle(input, { now: this.world.clock.now, buffered: 0 })
    for (const e of effects) this.exec(conn, e)
  }

  private exec(conn: Conn, e: Effect): void {
    switch (e.type) {
      case 'send':
        return conn.link.reply(e.text)
      case 'close':
        conn.link.closeByNode(e.code, e.reason, e.final)
        return this.gone(conn)
      case 'store':
        return this.call(e.call, (reply) => this.io(() => this.run(conn, { type: 'store', id: e.id, ...reply })))
      case 'listen':
        if (!conn.listening.has(e.topic)) {
          const topic = e.topic
          conn.listening.set(topic, this.hub.add(topic, (message) => this.run(conn, { type: 'live', message }), () => this.run(conn, { type: 'resync', topic })))
        }
        return
      case 'unlisten':
        conn.listening.get(e.topic)?.()
        conn.listening.delete(e.topic)
        return
      case 'authorize':
        return this.run(conn, { type: 'authorized', refusal: null })
      case 'handle': {
        // The default handler: echo the data to the sender's own inbox, committed with the seq.
        const outcome = { ok: true as const, appends: [{ topic: e.inbox, data: e.data }] }
        return void this.world.clock.after(0, () => this.io(() => this.run(conn, { type: 'handled', seq: e.seq, outcome })))
      }
      case 'own': {
        const older = this.bySession.get(e.session)
        this.bySession.set(e.session, conn)
        if (older && older !== conn) this.run(older, { type: 'superseded' })
        return
      }
      case 'await-drain':
        return this.run(conn, { type: 'drained' })
      case 'log':
        return this.world.trace(`${this.id}: ${e.line}`)
    }
  }

  private gone(conn: Conn): void {
    if (this.conns.get(conn.link.id) !== conn) return
    this.run(conn, { type: 'socket-closed' })
    for (const off of conn.listening.values()) off()
    conn.listening.clear()
    this.conns.delete(conn.link.id)
    const s = conn.core.held?.session
    if (s !== undefined && this.bySession.get(s) === conn) this.bySession.delete(s)
    if (this.draining && this.conns.size === 0) this.crash('drained')
  }

  /**
   * One store call over the node's store link: ordered, with latency both ways; failing fast while the store is
   * down; failing after COMMAND_TIMEOUT_MS if no reply comes (the store hangs) although it may still apply late.
   */
  private call(call: StoreCall, reply: (r: StoreReply) => void, wakes = false): void {
    const w = this.world
    let answered = false
    const answer = (r: StoreReply) => {
      if (answered) return
      answered = true
      timeout.cancel()
      reply(r)
    }
    const timeout = w.clock.after(COMMAND_TIMEOUT_MS, () => this.io(() => answer({ ok: false, error: `no reply within ${COMMAND_TIMEOUT_MS} ms` })), wakes)
    if (!w.store.up) return void w.clock.after(w.storeLatencyMs, () => this.io(() => answer({ ok: false, error: 'store unavailable' })), wakes)
    const arrival = (this.lastArrival = Math.max(this.lastArrival, w.clock.now + w.storeLatencyMs * (1 + w.random.next())))
    w.clock.at(arrival, () =>
      w.gate(() => {
        if (!w.store.up) return void w.clock.after(w.storeLatencyMs, () => this.io(() => answer({ ok: false, error: 'store unavailable' })), wakes)
        let r: StoreReply
        try {
          const store = w.store as unknown as Record<string, (...args: unknown[]) => unknown>
          r = { ok: true, value: store[call.method]!.apply(w.store, call.args) }
        } catch (e) {
          r = { ok: false, error: (e as Error).message }
        }
        w.clock.after(w.storeLatencyMs, () => this.io(() => answer(r)), wakes)
      }),
    )
  }

  /** The store as the Redis live fan-out sees it: reads over the store link, and a pub/sub that a restart cuts. */
  private liveSource(): LiveSource {
    const ask = <T>(call: StoreCall) =>
      new Promise<T>((resolve, reject) => this.call(call, (r) => (r.ok ? resolve(r.value as T) : reject(new Error(r.error))), true))
    return {
      head: (topic) => ask<TopicHead>({ method: 'head', args: [topic] }),
      read: (topic, from, limit) => ask<StoredMessage[]>({ method: 'read', args: [topic, from, limit] }),
      listen: (topic, onMessage) =>
        new Promise<void>((resolve) => {
          const w = this.world
          this.storeListeners.get(topic)?.()
          const off = w.store.subscribe(topic, (m) => {
            const restarts = w.storeRestarts
            // Pub/sub is at most once: a message still in the store's output buffer (up to ~10 ms of them under
            // load) or in flight when the store restarts never arrives. Ordered, as one connection's replies are.
            const at = (this.lastLive = Math.max(this.lastLive, w.clock.now + w.storeLatencyMs + w.random.next() * 10))
            w.clock.at(at, () => restarts === w.storeRestarts && this.io(() => onMessage(m)), true)
          })
          this.storeListeners.set(topic, off)
          w.clock.after(w.storeLatencyMs, () => resolve(), true)
        }),
      unlisten: (topic) =>
        new Promise<void>((resolve) => {
          this.storeListeners.get(topic)?.()
          this.storeListeners.delete(topic)
          this.world.clock.after(this.world.storeLatencyMs, () => resolve(), true)
        }),
    }
  }
}
