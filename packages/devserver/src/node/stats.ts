/**
 * A node's counters for the dashboard: messages in and out, resumes, and how its store calls fare. Counted by
 * the socket adapter (socket.ts) as it carries out the core's effects, so the pure core stays free of them.
 * A forked node reports them to its supervisor once a second over the fork() IPC channel (`reportStats`), next
 * to the balancer's `lifeline: 'conn'` handoff messages; the supervisor (cluster/stats.ts) turns them into rates.
 *
 *   node → supervisor  { lifeline: 'stats', pid, at, connections, messagesIn, messagesOut, resumes, resumedAt, store }
 *
 * Counters are totals since the process started, not per-interval counts: a report that is lost (a frozen node
 * sends none) costs the supervisor one sample, not a wrong rate.
 */

export const STATS_TAG = 'stats'

/** Reports a second: what the dashboard charts, at the resolution a person watching a failover reads. */
export const STATS_INTERVAL_MS = 1_000

/**
 * Resume times kept between two reports; beyond it resumes are only counted. 10,000: a herd of that many
 * clients resuming within one second still reaches the reconnect histogram whole, in ~130 KB of IPC.
 */
export const MAX_RESUME_TIMES = 10_000

/** How this node's calls to the store fare (client work only: hello, writes, reads, presence). */
export interface StoreCallStats {
  /** Calls settled, since the start. */
  calls: number
  /** Calls that failed (the store refused or could not be reached), since the start. */
  failures: number
  /** Calls in flight now. */
  waiting: number
  /** Age of the oldest call in flight, ms (0 when none): a store that stopped answering shows here first. */
  oldestWaitingMs: number
  /** The slowest call settled since the last report, ms. */
  slowestMs: number
}

export interface StatsReport {
  lifeline: typeof STATS_TAG
  /** The reporting process: a restarted node (same id, new process) counts from 0 again. */
  pid: number
  /** The node's clock (ms since the epoch) when it was taken; nodes and supervisor share a machine and a clock. */
  at: number
  /** Open client sockets, as the node counts them. */
  connections: number
  /** Client writes (pub and send frames) handed to the store, since the start. */
  messagesIn: number
  /** `msg` frames written to clients, live and replayed, since the start. */
  messagesOut: number
  /** Welcomes with `resumed: true`, since the start. */
  resumes: number
  /** When each resume since the last report happened (ms since the epoch), at most MAX_RESUME_TIMES of them. */
  resumedAt: number[]
  store: StoreCallStats
}

export function isStatsReport(value: unknown): value is StatsReport {
  const v = value as Partial<StatsReport> | null
  return typeof v === 'object' && v !== null && v.lifeline === STATS_TAG && typeof v.pid === 'number' && typeof v.at === 'number' && Array.isArray(v.resumedAt) && typeof v.store === 'object'
}

export class NodeStats {
  messagesIn = 0
  messagesOut = 0
  resumes = 0
  private resumedAt: number[] = []
  private calls = 0
  private failures = 0
  private slowest = 0
  private nextCall = 0
  /** Start times of the calls in flight, by call id; a Map keeps insertion order, so the first is the oldest. */
  private readonly inFlight = new Map<number, number>()

  constructor(private readonly now: () => number = Date.now) {}

  /** A frame the socket writes to a client. Frames are encoded by the node with `t` first (protocol/codec.ts). */
  sent(text: string): void {
    if (text.startsWith('{"t":"msg"')) this.messagesOut++
    else if (text.startsWith('{"t":"welcome"') && text.includes('"resumed":true')) {
      this.resumes++
      if (this.resumedAt.length < MAX_RESUME_TIMES) this.resumedAt.push(this.now())
    }
  }

  /** A store call starts; call the function it returns when it settles. */
  call(method: string): (ok: boolean) => void {
    if (method === 'apply') this.messagesIn++
    const id = this.nextCall++
    const started = this.now()
    this.inFlight.set(id, started)
    return (ok) => {
      if (!this.inFlight.delete(id)) return
      this.calls++
      if (!ok) this.failures++
      this.slowest = Math.max(this.slowest, this.now() - started)
    }
  }

  /** The report, and a fresh start for what is per report (resume times, slowest call). */
  take(connections: number): StatsReport {
    const now = this.now()
    const oldest = this.inFlight.values().next()
    const report: StatsReport = {
      lifeline: STATS_TAG,
      pid: process.pid,
      at: now,
      connections,
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
      resumes: this.resumes,
      resumedAt: this.resumedAt,
      store: { calls: this.calls, failures: this.failures, waiting: this.inFlight.size, oldestWaitingMs: oldest.done ? 0 : now - oldest.value, slowestMs: this.slowest },
    }
    this.resumedAt = []
    this.slowest = 0
    return report
  }
}

/**
 * Sends `stats.take()` over `channel` every STATS_INTERVAL_MS while it is connected; returns the stop function.
 * The timer is unref'd: reporting never keeps a node alive.
 */
export function reportStats(stats: NodeStats, connections: () => number, channel: NodeJS.Process = process): () => void {
  const timer = setInterval(() => {
    if (channel.connected) channel.send?.(stats.take(connections()))
  }, STATS_INTERVAL_MS)
  timer.unref()
  return () => clearInterval(timer)
}
