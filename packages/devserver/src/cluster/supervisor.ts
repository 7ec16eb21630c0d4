/**
 * The supervisor: starts node processes and the balancer, keeps one in-memory store for them (or points them
 * at Redis), and turns kill / drain / freeze / thaw / add / remove / restart into real process signals.
 */
import type { Balancer } from '../balancer/index.js'
import type { Store } from '../store/types.js'
import { NODE_DEFAULTS } from '../node/options.js'
import { startChaos } from './chaos.js'
import { ClusterError, ClusterErrorCode } from './errors.js'
import { NodeProcess } from './node-process.js'
import type { Cluster, ClusterNode, ClusterOptions, ClusterNodeStatus } from './types.js'

/** One node id and its current process. A restart puts a new process in the same slot. */
interface Slot {
  id: string
  proc: NodeProcess | undefined
  phase: 'running' | 'frozen' | 'draining'
  /** The current process's exit was asked for (drain, remove, restart, stop): do not restart it. */
  expectedExit: boolean
  /** Unexpected exits in a row, for the restart backoff. */
  crashes: number
  startedAt: number
  /** The current process's start (resolves once it listens and is routed to). */
  starting: Promise<void> | undefined
}

/** Signals after which a process keeps running: kill() resolves once sent instead of waiting for an exit. */
const NON_FATAL = new Set<NodeJS.Signals>(['SIGSTOP', 'SIGCONT', 'SIGTSTP', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'])

export class Supervisor implements Cluster {
  private readonly slots = new Map<string, Slot>()
  private nextId = 1
  private stopping: Promise<void> | undefined
  private stopChaos: () => void = () => {}
  /** Every process started and not yet exited, whatever slot it is in: stop() leaves none behind. */
  private readonly procs = new Set<NodeProcess>()
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
    // Nodes also exit when their IPC channel closes; this covers a supervisor that exits without stop().
    process.once('exit', this.killAllOnExit)
    // Routing changes are what a developer watching a failover wants to see, with the reason.
    balancer.on('change', (c) => {
      if (this.stopping || (c.reason.startsWith('added') && c.closed === 0)) return // a start is routine
      const closed = c.closed > 0 ? `, closed ${c.closed} connections` : ''
      const state = c.health === 'down' ? 'down' : c.draining ? 'draining' : 'up'
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
    const slot = this.live(id)
    const proc = slot.proc as NodeProcess
    // The node drains on these: out of routing first, as drain() does, so its clients do not come straight back.
    if (signal === 'SIGTERM' || signal === 'SIGINT') this.balancer.setDraining(id, true, `${signal} sent`)
    proc.signal(signal)
    if (NON_FATAL.has(signal)) return
    // A stopped process cannot act on a catchable signal; let it run so it can (SIGKILL needs no help).
    if (slot.phase === 'frozen') proc.signal('SIGCONT')
    await proc.exited
  }

  async drain(id: string): Promise<void> {
    const slot = this.live(id)
    const proc = slot.proc as NodeProcess
    slot.expectedExit = true
    slot.phase = 'draining'
    // Out of routing first, so the clients the node closes with 1012 reconnect to the others, not back to it.
    this.balancer.setDraining(id, true)
    proc.signal('SIGTERM')
    proc.signal('SIGCONT') // a frozen node must run to drain
    // The node bounds its own drain (drainTimeoutMs); this is the last resort if it hangs anyway.
    const grace = (this.options.drainTimeoutMs ?? NODE_DEFAULTS.drainTimeoutMs) + 5_000
    const timer = setTimeout(() => proc.signal('SIGKILL'), grace)
    await proc.exited
    clearTimeout(timer)
  }

  async freeze(id: string): Promise<void> {
    const slot = this.live(id)
    slot.proc?.signal('SIGSTOP')
    slot.phase = 'frozen'
    // SIGSTOP takes effect when the kernel next schedules the process, not when kill() returns: a test that
    // writes to the node right after freeze() must find it stopped.
    await slot.proc?.stopped(true)
  }

  async thaw(id: string): Promise<void> {
    const slot = this.live(id)
    slot.proc?.signal('SIGCONT')
    if (slot.phase === 'frozen') slot.phase = 'running'
    await slot.proc?.stopped(false)
  }

  async addNode(): Promise<ClusterNode> {
    this.assertRunning()
    const slot = this.newSlot()
    await this.launch(slot)
    return this.snapshot(slot)
  }

  async removeNode(id: string): Promise<void> {
    const slot = this.slot(id)
    if (slot.proc?.alive) await this.drain(id)
    this.slots.delete(id)
    this.balancer.remove(id)
  }

  async restart(id: string): Promise<ClusterNode> {
    const slot = this.slot(id)
    const before = slot.proc
    if (before?.alive) await this.drain(id)
    // Two restarts at once (a user and the chaos loop, say) start one process, not two for one id.
    if (slot.proc !== before && slot.proc?.alive) await slot.starting
    else await this.launch(slot)
    return this.snapshot(slot)
  }

  async rollingRestart(): Promise<void> {
    for (const slot of [...this.slots.values()]) if (slot.proc?.alive) await this.restart(slot.id)
  }

  nodeOf(sessionId: string): string | undefined {
    return this.balancer.nodeOf(sessionId)
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopChaos()
      const procs = [...this.procs]
      for (const slot of this.slots.values()) slot.expectedExit = true
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
    const slot: Slot = { id: `n${this.nextId++}`, proc: undefined, phase: 'running', expectedExit: false, crashes: 0, startedAt: 0, starting: undefined }
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
    })
    this.procs.add(proc)
    slot.proc = proc
    slot.phase = 'running'
    slot.expectedExit = false
    slot.startedAt = Date.now()
    void proc.exited.then((exit) => {
      this.procs.delete(proc)
      if (slot.proc !== proc) return
      // At once, not at the next health check: clients of a dead node learn it in milliseconds.
      this.balancer.down(slot.id, 'process exited')
      if (!this.stopping) this.log(`[supervisor] node ${slot.id} exited (${exit.signal ?? `code ${exit.code}`})`)
      if (!slot.expectedExit && this.options.restart && !this.stopping && this.slots.get(slot.id) === slot) this.respawn(slot)
    })
    const port = await proc.ready()
    // Removed (or stopped) while it started: it must not linger, routed to but listed nowhere.
    if (this.slots.get(slot.id) !== slot || this.stopping) return void proc.signal('SIGKILL')
    if (slot.proc === proc && proc.alive) this.balancer.add({ id: slot.id, host: '127.0.0.1', port })
  }

  /** restart: true. Backoff doubles per crash in a row (100 ms … 5 s), so a crash loop does not spin. */
  private respawn(slot: Slot): void {
    slot.crashes = Date.now() - slot.startedAt > 10_000 ? 1 : slot.crashes + 1
    const delay = Math.min(5_000, 100 * 2 ** (slot.crashes - 1))
    setTimeout(() => {
      if (this.stopping || slot.proc?.alive || this.slots.get(slot.id) !== slot) return
      this.launch(slot).catch((e: Error) => this.log(`[supervisor] restart of ${slot.id} failed: ${e.message}`))
    }, delay).unref()
  }

  private snapshot(slot: Slot): ClusterNode {
    return {
      id: slot.id,
      pid: slot.proc?.pid,
      port: slot.proc?.port,
      status: this.statusOf(slot),
      connections: this.balancer.connections(slot.id),
    }
  }

  private statusOf(slot: Slot): ClusterNodeStatus {
    const proc = slot.proc
    if (!proc || !proc.alive) return 'dead'
    if (proc.port === undefined) return 'starting'
    if (slot.phase === 'frozen') return 'frozen'
    const backend = this.balancer.backends().find((b) => b.id === slot.id)
    if (slot.phase === 'draining' || backend?.draining) return 'draining'
    return backend?.health === 'up' ? 'up' : 'down'
  }

  private slot(id: string): Slot {
    this.assertRunning()
    const slot = this.slots.get(id)
    if (!slot) throw new ClusterError(ClusterErrorCode.NODE_NOT_FOUND, `no node "${id}"; nodes are ${[...this.slots.keys()].join(', ') || 'none'}`)
    return slot
  }

  private live(id: string): Slot {
    const slot = this.slot(id)
    if (!slot.proc?.alive) throw new ClusterError(ClusterErrorCode.NODE_NOT_RUNNING, `node "${id}" is not running; restart it first`)
    return slot
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
