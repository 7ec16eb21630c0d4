/**
 * The supervisor: starts node processes and the balancer, keeps one in-memory store for them (or points them
 * at Redis), and turns kill / drain / freeze / thaw / add / remove / restart into real process signals, and
 * impair / heal into the network-fault state it hands its node processes (faults/messages.ts).
 */
import { backoffCeiling, type Backoff } from '@lifeline/protocol'
import type { Balancer } from '../balancer/index.js'
import type { Store } from '../store/types.js'
import { NODE_DEFAULTS } from '../node/options.js'
import { startChaos } from './chaos.js'
import { ClusterError, ClusterErrorCode } from '../errors.js'
import { nodeStatus, type Life } from './lifecycle.js'
import { EventLog } from './events.js'
import { ClusterStats, type StoreInfo } from './stats.js'
import { MemoryStore } from '../store/memory.js'
import { NodeProcess } from './node-process.js'
import type { Cluster, ClusterFaults, ClusterNode, ClusterOptions } from './types.js'
import { describeImpairment, parseImpairment, type FaultState, type ImpairOptions } from '../faults/options.js'

/** One node id and its current process. A restart puts a new process in the same slot. */
interface Slot {
  id: string
  /** Changed only by Supervisor.move. */
  life: Life
  /** Unexpected exits in a row, for the restart backoff. */
  crashes: number
  startedAt: number
  /** The current process's start (resolves once it listens and is routed to). */
  starting: Promise<void> | undefined
  /**
   * The node's network impairment (cluster.impair), kept here rather than only in the process: a restarted
   * process of the slot is handed it before it is routed to (spawn). A slot is a machine with its network link,
   * and restarting the node process on it does not mend the link; `heal` does.
   */
  impairment: ImpairOptions | undefined
}

/**
 * restart: true. The delay before restarting a node that crashed n times in a row is the backoff ceiling
 * (100 ms doubling to 5 s), so a crash loop does not spin. No jitter: jitter spreads a herd of clients that
 * lost the same node, and here one supervisor restarts a handful of processes; a fixed delay is easier to read.
 */
const RESTART_BACKOFF: Backoff = { minMs: 100, maxMs: 5_000, factor: 2 }
/** A node that ran this long before crashing starts the backoff over: it was not a crash loop. */
const CRASH_LOOP_WINDOW_MS = 10_000
/** After drainTimeoutMs (the node's own bound on a drain), how long a signalled process may take to exit before SIGKILL. */
const EXIT_GRACE_MS = 5_000

/**
 * How long impair/heal wait for a node process to say it applied its fault state. It answers from memory in
 * microseconds; this only bounds a node that is stuck (then the call resolves anyway, and the node applies the
 * state when it runs again, since the message waits in its IPC channel).
 */
const FAULTS_TIMEOUT_MS = 5_000
/**
 * At most this many sessions impaired at once (impairSession): each node is handed the whole list on every
 * change. A page per test needs a handful; past this a loop forgot to heal.
 */
const MAX_IMPAIRED_SESSIONS = 1_000

/** Signals after which a process keeps running: kill() resolves once sent instead of waiting for an exit. */
const NON_FATAL = new Set<NodeJS.Signals>(['SIGSTOP', 'SIGCONT', 'SIGTSTP', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'])

export class Supervisor implements Cluster {
  readonly events = new EventLog()
  readonly stats: ClusterStats
  private readonly slots = new Map<string, Slot>()
  private nextId = 1
  private stopping: Promise<void> | undefined
  private stopChaos: () => void = () => {}
  /** Every process started and not yet exited, whatever slot it is in: stop() leaves none behind. */
  private readonly procs = new Set<NodeProcess>()
  /** Session id → the impairment of that session's connections, on every node (impairSession). */
  private readonly sessionFaults = new Map<string, ImpairOptions>()
  /** ClusterOptions.impair, parsed: what a new slot starts with, until heal(). */
  private clusterImpairment: ImpairOptions | undefined
  private readonly killAllOnExit = (): void => {
    for (const proc of this.procs) proc.signal('SIGKILL')
  }

  constructor(
    private readonly options: ClusterOptions & { secret: string; host: string; entry: string },
    private readonly balancer: Balancer,
    private readonly store: Store | string,
    /** The cluster made the store (memory), so stop() closes it; a caller's Store is the caller's to close. */
    private readonly ownsStore: boolean,
  ) {
    // Checked by startCluster already; parsed again here so what a slot holds is always a parsed impairment.
    this.clusterImpairment = options.impair === undefined ? undefined : this.checkImpairment(options.impair)
    if (this.clusterImpairment) {
      const impairment = this.clusterImpairment
      this.events.record('action', undefined, `impair every node: ${describeImpairment(impairment)}`, { action: 'impair', impairment, scope: 'cluster' })
    }
    // Nodes also exit when their IPC channel closes; this covers a supervisor that exits without stop().
    process.once('exit', this.killAllOnExit)
    this.stats = new ClusterStats({ nodes: () => this.nodes, events: this.events, store: () => describeStore(store) })
    this.stats.start()
    // Routing changes are what a developer watching a failover wants to see, with the reason.
    balancer.on('change', (c) => {
      if (this.stopping) return
      const closed = c.closed > 0 ? `, closed ${c.closed} connections` : ''
      const state = c.health === 'down' ? 'down' : c.draining ? 'draining' : 'up'
      this.events.record('routing', c.id, `${state} (${c.reason})${closed}`, { health: c.health, draining: c.draining, reason: c.reason, closed: c.closed })
      if (c.reason.startsWith('added') && c.closed === 0) return // a start is routine: logged, not printed
      this.log(`[balancer] ${c.id} ${state} (${c.reason})${closed}`)
    })
  }

  get url(): string {
    return this.balancer.url
  }
  get adminUrl(): string {
    return `http://${this.balancer.displayHost}:${this.balancer.port}/_lifeline/api`
  }

  get nodes(): ClusterNode[] {
    return [...this.slots.values()].map((slot) => this.snapshot(slot))
  }

  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (signal === 'SIGSTOP') return this.freeze(id) // same signal, and the status says frozen
    if (signal === 'SIGCONT') return this.thaw(id)
    const [slot, proc] = this.live(id)
    this.events.record('action', id, `kill ${signal}`, { action: 'kill', signal })
    // Asked for, not a crash loop: with `restart`, a node killed again and again (the dashboard's kill, a test)
    // comes back after the shortest delay each time, not after a backoff grown to 5 s.
    slot.crashes = 0
    // The node drains on these: out of routing first, as drain() does, so its clients do not come straight back.
    if (signal === 'SIGTERM' || signal === 'SIGINT') this.balancer.setDraining(id, true, `${signal} sent`)
    proc.signal(signal)
    if (NON_FATAL.has(signal)) return
    // A stopped process cannot act on a catchable signal; let it run so it can (SIGKILL needs no help).
    if (slot.life.type === 'frozen') {
      proc.signal('SIGCONT')
      this.move(slot, awake(proc))
    }
    await this.exitOf(proc)
  }

  async drain(id: string): Promise<void> {
    const [slot, proc] = this.live(id)
    this.events.record('action', id, 'drain', { action: 'drain' })
    this.move(slot, { type: 'draining', proc })
    // Out of routing first, so the clients the node closes with 1012 reconnect to the others, not back to it.
    this.balancer.setDraining(id, true)
    proc.signal('SIGTERM')
    proc.signal('SIGCONT') // a frozen node must run to drain
    await this.exitOf(proc)
  }

  async freeze(id: string): Promise<void> {
    const [slot, proc] = this.live(id)
    this.events.record('action', id, 'freeze', { action: 'freeze' })
    proc.signal('SIGSTOP')
    // A draining node stays draining: its exit is still expected, and drain() SIGKILLs it if it never comes.
    if (slot.life.type === 'starting' || slot.life.type === 'running') this.move(slot, { type: 'frozen', proc })
    // SIGSTOP takes effect when the kernel next schedules the process, not when kill() returns: a test that
    // writes to the node right after freeze() must find it stopped.
    await proc.stopped(true)
  }

  async thaw(id: string): Promise<void> {
    const [slot, proc] = this.live(id)
    this.events.record('action', id, 'thaw', { action: 'thaw' })
    proc.signal('SIGCONT')
    if (slot.life.type === 'frozen') this.move(slot, awake(proc))
    await proc.stopped(false)
  }

  async addNode(): Promise<ClusterNode> {
    this.assertRunning()
    const slot = this.newSlot()
    this.events.record('action', slot.id, 'add', { action: 'add' })
    await this.launch(slot)
    return this.snapshot(slot)
  }

  async removeNode(id: string): Promise<void> {
    const slot = this.slot(id)
    this.events.record('action', id, 'remove', { action: 'remove' })
    if (isAlive(slot.life)) await this.drain(id)
    this.slots.delete(id)
    this.balancer.remove(id)
  }

  async restart(id: string): Promise<ClusterNode> {
    const slot = this.slot(id)
    this.events.record('action', id, 'restart', { action: 'restart' })
    const before = procOf(slot.life)
    if (isAlive(slot.life)) await this.drain(id)
    // Two restarts at once (a user and the chaos loop, say) start one process, not two for one id.
    if (procOf(slot.life) !== before && isAlive(slot.life)) await slot.starting
    else await this.launch(slot)
    return this.snapshot(slot)
  }

  async rollingRestart(): Promise<void> {
    for (const slot of [...this.slots.values()]) if (isAlive(slot.life)) await this.restart(slot.id)
  }

  async impair(id: string, options: ImpairOptions): Promise<void> {
    const slot = this.slot(id)
    const impairment = this.checkImpairment(options)
    slot.impairment = impairment
    this.events.record('action', id, `impair: ${describeImpairment(impairment)}`, { action: 'impair', impairment })
    await this.pushFaults(slot)
  }

  async heal(id?: string): Promise<void> {
    if (id !== undefined) {
      const slot = this.slot(id)
      slot.impairment = undefined
      this.events.record('action', id, 'heal', { action: 'heal' })
      return this.pushFaults(slot)
    }
    this.assertRunning()
    for (const slot of this.slots.values()) slot.impairment = undefined
    this.sessionFaults.clear()
    this.clusterImpairment = undefined
    this.events.record('action', undefined, 'heal: every node and session', { action: 'heal' })
    await this.pushFaults()
  }

  async impairSession(sessionId: string, options: ImpairOptions): Promise<void> {
    this.assertRunning()
    checkSessionId(sessionId)
    const impairment = parseImpairment(options, 'session')
    if (!this.sessionFaults.has(sessionId) && this.sessionFaults.size >= MAX_IMPAIRED_SESSIONS) {
      throw new ClusterError(ClusterErrorCode.BAD_OPTION, `${MAX_IMPAIRED_SESSIONS} sessions are impaired already; heal some (healSession, or heal() for all) first`)
    }
    this.sessionFaults.set(sessionId, impairment)
    const node = this.nodeOf(sessionId)
    this.events.record('action', node, `impair session ${sessionId}: ${describeImpairment(impairment)}`, { action: 'impair', session: sessionId, impairment })
    await this.pushFaults()
  }

  async healSession(sessionId: string): Promise<void> {
    this.assertRunning()
    checkSessionId(sessionId)
    this.sessionFaults.delete(sessionId)
    this.events.record('action', this.nodeOf(sessionId), `heal session ${sessionId}`, { action: 'heal', session: sessionId })
    await this.pushFaults()
  }

  get faults(): ClusterFaults {
    const nodes: Record<string, ImpairOptions> = {}
    for (const slot of this.slots.values()) if (slot.impairment) nodes[slot.id] = structuredClone(slot.impairment)
    return { nodes, sessions: structuredClone(Object.fromEntries(this.sessionFaults)) }
  }

  nodeOf(sessionId: string): string | undefined {
    return this.balancer.nodeOf(sessionId)
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopChaos()
      this.stats.stop()
      const procs = [...this.procs]
      for (const proc of procs) proc.signal('SIGKILL')
      await Promise.all(procs.map((p) => p.exited))
      await this.balancer.close()
      if (this.ownsStore && typeof this.store !== 'string') await this.store.close()
      process.off('exit', this.killAllOnExit)
    })()
    return this.stopping
  }

  /** Starts `count` nodes in parallel; used once by startCluster. */
  async startNodes(count: number): Promise<void> {
    const slots = Array.from({ length: count }, () => this.newSlot())
    await Promise.all(slots.map((slot) => this.launch(slot)))
    if (this.options.chaosMs) this.stopChaos = startChaos(this, this.options.chaosMs, (line) => this.log(line))
  }

  private newSlot(): Slot {
    const slot: Slot = { id: `n${this.nextId++}`, life: { type: 'new' }, crashes: 0, startedAt: 0, starting: undefined, impairment: this.clusterImpairment }
    this.slots.set(slot.id, slot)
    return slot
  }

  /** Starts a fresh process in the slot and adds it to the balancer once it listens. */
  private launch(slot: Slot): Promise<void> {
    this.assertRunning()
    slot.starting = this.spawn(slot)
    return slot.starting
  }

  private async spawn(slot: Slot): Promise<void> {
    const o = this.options
    const proc = new NodeProcess({
      id: slot.id,
      host: '127.0.0.1', // nodes sit behind the balancer; only it needs to be reachable
      secret: o.secret,
      store: this.store,
      entry: o.entry,
      startTimeoutMs: o.startTimeoutMs ?? 15_000,
      log: o.log ?? defaultLog,
      heartbeatMs: o.heartbeatMs,
      timeoutMs: o.timeoutMs,
      sessionTtlMs: o.sessionTtlMs,
      drainTimeoutMs: o.drainTimeoutMs,
      maxFrameBytes: o.maxFrameBytes,
      apiKeys: o.apiKeys,
      auth: o.auth,
      webhooks: o.webhooks,
    })
    this.procs.add(proc)
    proc.onStats((report) => this.stats.report(slot.id, report))
    this.move(slot, { type: 'starting', proc })
    slot.startedAt = Date.now()
    void proc.exited.then((exit) => {
      this.procs.delete(proc)
      if (procOf(slot.life) !== proc) return
      const expected = slot.life.type === 'draining' // drain, remove, restart: asked for; stop() sets `stopping`
      this.move(slot, { type: 'exited', proc })
      // At once, not at the next health check: clients of a dead node learn it in milliseconds.
      this.balancer.down(slot.id, 'process exited')
      if (!this.stopping) this.log(`[supervisor] node ${slot.id} exited (${exit.signal ?? `code ${exit.code}`})`)
      if (!expected && this.options.restart && !this.stopping && this.slots.get(slot.id) === slot) this.respawn(slot)
    })
    const port = await proc.ready()
    // Shaped before the balancer routes a client to it: a restarted (or added) node's first frame is impaired too.
    const faults = this.faultStateOf(slot)
    if (faults && !this.stopping) await proc.setFaults(faults, FAULTS_TIMEOUT_MS).catch((e: Error) => this.log(`[supervisor] ${slot.id}: ${e.message}`))
    // Removed (or stopped) while it started: it must not linger, routed to but listed nowhere.
    if (this.slots.get(slot.id) !== slot || this.stopping) return void proc.signal('SIGKILL')
    if (procOf(slot.life) !== proc || !isAlive(slot.life)) return
    // Drained while it started: it is leaving, so it is never routed to. Frozen: it stays frozen (thaw finds it
    // listening) and is routed to like any other; its health checks take it out.
    if (slot.life.type === 'draining') return
    if (slot.life.type === 'starting') this.move(slot, { type: 'running', proc })
    this.balancer.add({ id: slot.id, host: '127.0.0.1', port, ...(o.routing === 'proxy' ? {} : { handoff: proc.handoff }) })
  }

  /** restart: true. See RESTART_BACKOFF. */
  private respawn(slot: Slot): void {
    slot.crashes = Date.now() - slot.startedAt > CRASH_LOOP_WINDOW_MS ? 1 : slot.crashes + 1
    setTimeout(() => {
      if (this.stopping || isAlive(slot.life) || this.slots.get(slot.id) !== slot) return
      this.launch(slot).catch((e: Error) => this.log(`[supervisor] restart of ${slot.id} failed: ${e.message}`))
    }, backoffCeiling(slot.crashes - 1, RESTART_BACKOFF)).unref()
  }

  private checkImpairment(options: ImpairOptions): ImpairOptions {
    return checkNodeImpairment(options, typeof this.store === 'string')
  }

  /** What a node process of `slot` is handed: its own impairment and every impaired session; undefined when nothing is impaired. */
  private faultStateOf(slot: Slot): FaultState | undefined {
    if (!slot.impairment && this.sessionFaults.size === 0) return undefined
    return { ...(slot.impairment ? { node: slot.impairment } : {}), sessions: Object.fromEntries(this.sessionFaults) }
  }

  /**
   * Hands the fault state to the slot's process (or every slot's), and resolves once each applied it. A process
   * not listening yet gets it in spawn() before it is routed to; a frozen one when it is thawed (not awaited).
   */
  private async pushFaults(only?: Slot): Promise<void> {
    const slots = only ? [only] : [...this.slots.values()]
    await Promise.all(
      slots.map(async (slot) => {
        const proc = procOf(slot.life)
        if (!proc || !isAlive(slot.life) || proc.port === undefined) return
        const applied = proc.setFaults(this.faultStateOf(slot) ?? {}, FAULTS_TIMEOUT_MS)
        if (slot.life.type !== 'frozen') return applied
        applied.catch((e: Error) => this.log(`[supervisor] ${slot.id}: ${e.message}`))
      }),
    )
  }

  /**
   * The one place a slot's lifecycle changes. Events of a process that is no longer the slot's (an old one's
   * exit after a restart) never get here: every caller checks `procOf(slot.life)` first.
   */
  private move(slot: Slot, next: Life): void {
    const from = slot.life.type
    slot.life = next
    if (from !== next.type) {
      const exit = next.type === 'exited' ? next.proc.exit : undefined
      const why = exit ? ` (${exit.signal ?? `code ${exit.code}`})` : ''
      this.events.record('node', slot.id, `${from} → ${next.type}${why}`, { from, to: next.type, ...(exit ? { exit } : {}), pid: procOf(next)?.pid })
    }
  }

  /**
   * Resolves once `proc` has exited. The node bounds its own drain (drainTimeoutMs); if it is still alive
   * EXIT_GRACE_MS after that (hung, or a signal it ignores), it is SIGKILLed: no wait here is unbounded.
   */
  private async exitOf(proc: NodeProcess): Promise<void> {
    const grace = (this.options.drainTimeoutMs ?? NODE_DEFAULTS.drainTimeoutMs) + EXIT_GRACE_MS
    const timer = setTimeout(() => proc.signal('SIGKILL'), grace)
    await proc.exited
    clearTimeout(timer)
  }

  private snapshot(slot: Slot): ClusterNode {
    const proc = procOf(slot.life)
    return {
      id: slot.id,
      pid: proc?.pid,
      port: proc?.port,
      status: nodeStatus(slot.life.type, this.balancer.backends().find((b) => b.id === slot.id)),
      connections: this.balancer.connections(slot.id),
      ...(slot.impairment ? { impairment: structuredClone(slot.impairment) } : {}),
    }
  }

  private slot(id: string): Slot {
    this.assertRunning()
    const slot = this.slots.get(id)
    if (!slot) throw new ClusterError(ClusterErrorCode.NODE_NOT_FOUND, `no node "${id}"; nodes are ${[...this.slots.keys()].join(', ') || 'none'}`)
    return slot
  }

  /** The slot and its live process, or NODE_NOT_RUNNING. */
  private live(id: string): [Slot, NodeProcess] {
    const slot = this.slot(id)
    const proc = procOf(slot.life)
    if (!proc || !isAlive(slot.life)) throw new ClusterError(ClusterErrorCode.NODE_NOT_RUNNING, `node "${id}" is not running; restart it first`)
    return [slot, proc]
  }

  private assertRunning(): void {
    if (this.stopping) throw new ClusterError(ClusterErrorCode.CLUSTER_STOPPED, 'the cluster was stopped; start a new one')
  }

  private log(line: string): void {
    ;(this.options.log ?? defaultLog)(line, 'stderr')
  }
}

export function defaultLog(line: string, stream: 'stdout' | 'stderr'): void {
  if (stream === 'stderr') process.stderr.write(line + '\n')
}

/** The store as the dashboard names it; a Redis URL without its credentials. */
function describeStore(store: Store | string): StoreInfo {
  if (store instanceof MemoryStore) return { kind: 'memory', where: 'in the supervisor', retainedBytes: store.retainedBytes }
  if (typeof store !== 'string') return { kind: 'custom', where: 'a Store object, in the supervisor' }
  try {
    return { kind: 'redis', where: new URL(store).host }
  } catch {
    return { kind: 'redis', where: 'redis' }
  }
}

/**
 * A node's impairment, checked: parseImpairment, and a `store` part only where nodes reach the store through
 * the supervisor (memory or a Store object), not Redis, which each node dials itself.
 */
export function checkNodeImpairment(options: unknown, redis: boolean): ImpairOptions {
  const impairment = parseImpairment(options, 'node')
  if (impairment.store && redis) {
    throw new ClusterError(ClusterErrorCode.BAD_OPTION, 'store: with a redis:// store each node reaches Redis directly, so that link cannot be impaired here; pause Redis itself (SIGSTOP) instead')
  }
  return impairment
}

/** A session id as the admin API or a test passes it: what the node's ids look like is theirs, but it is a bounded string. */
function checkSessionId(sessionId: unknown): void {
  if (typeof sessionId !== 'string' || sessionId.length === 0 || sessionId.length > 200) {
    throw new ClusterError(ClusterErrorCode.BAD_OPTION, `sessionId must be a session's id (client.sessionId), got ${JSON.stringify(sessionId)?.slice(0, 80)}`)
  }
}

function procOf(life: Life): NodeProcess | undefined {
  return life.type === 'new' ? undefined : life.proc
}

function isAlive(life: Life): boolean {
  return life.type !== 'new' && life.type !== 'exited'
}

/** Where a process that runs again (SIGCONT) stands: listening already, or still starting. */
function awake(proc: NodeProcess): Life {
  return proc.port === undefined ? { type: 'starting', proc } : { type: 'running', proc }
}
