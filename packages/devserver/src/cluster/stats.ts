/**
 * The cluster's numbers over time, for the dashboard and GET /_lifeline/api/stats: once a second, per node, its
 * connections (the balancer's count) and, from the counters each node process reports (node/stats.ts), its
 * messages in and out and resumes per second; the store as the nodes see it; and the reconnect times of the
 * last fault (reconnects.ts). A window of the newest WINDOW_SAMPLES samples is kept.
 */
import type { StatsReport } from '../node/stats.js'
import type { EventLog } from './events.js'
import { FaultReconnects, type LastFault } from './reconnects.js'
import type { ClusterNode } from './types.js'

/** One sample a second: what a person reads, and what the nodes report at. */
export const SAMPLE_MS = 1_000
/** Samples kept: 5 minutes, a failover and its recovery with room around it; a few KB per node. */
export const WINDOW_SAMPLES = 300
/** A node whose last report is older than this sends none (frozen, dead, starting): no rates for it, not zeros. */
const STALE_MS = 2_500
/**
 * A store call waiting (or that took) this long makes the node's store `slow`. 1 s: store calls take
 * milliseconds, and a second is well before a client's heartbeat timeout (5 s), so it shows before clients leave.
 */
export const STORE_SLOW_MS = 1_000

/** Per second, except `connections` (a count). null: the node sent no fresh report (frozen, dead, starting). */
export interface NodeSample {
  connections: number
  messagesIn: number | null
  messagesOut: number | null
  resumes: number | null
}

/**
 * A node's view of the store. ok; slow: a call has waited (or took) STORE_SLOW_MS or more; failing: calls
 * failed in the last second; unknown: no fresh report from the node.
 */
export type StoreHealth = 'ok' | 'slow' | 'failing' | 'unknown'

export interface NodeStoreState {
  state: StoreHealth
  callsPerSec: number
  failuresPerSec: number
  waiting: number
  oldestWaitingMs: number
  slowestMs: number
}

/** What the supervisor knows of its store without asking it. */
export interface StoreInfo {
  kind: 'memory' | 'redis' | 'custom'
  /** "in the supervisor", or the Redis host:port (no credentials). */
  where: string
  /** The memory store's retained bytes (MemoryStore.retainedBytes), when it is one. */
  retainedBytes?: number
}

export interface StoreState extends StoreInfo {
  /** The worst of the nodes' views that are known; unknown when none is. */
  state: StoreHealth
  nodes: Record<string, NodeStoreState>
}

/** GET /_lifeline/api/stats. Columns share `at`: nodes[id].connections[i] is at at[i]; null where a node was not. */
export interface StatsSnapshot {
  intervalMs: number
  at: number[]
  nodes: Record<string, { [K in keyof NodeSample]: (NodeSample[K] | null)[] }>
  store: StoreState
  lastFault: LastFault | null
}

interface Latest {
  report: StatsReport
  /** Rates from the report before it, of the same process. */
  rates: { messagesIn: number; messagesOut: number; resumes: number; calls: number; failures: number } | undefined
  /** When it arrived, by our clock. */
  received: number
}

export interface ClusterStatsSource {
  nodes(): ClusterNode[]
  events: EventLog
  store(): StoreInfo
  now?: () => number
}

export class ClusterStats {
  private readonly samples: { at: number; nodes: Map<string, NodeSample> }[] = []
  private readonly latest = new Map<string, Latest>()
  private readonly reconnects: FaultReconnects
  private readonly now: () => number
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly source: ClusterStatsSource) {
    this.now = source.now ?? Date.now
    this.reconnects = new FaultReconnects((id) => source.nodes().find((n) => n.id === id)?.connections ?? 0)
    source.events.on('event', (e) => this.reconnects.event(e))
  }

  /** Samples every SAMPLE_MS until stop(); the timer never keeps the process alive. */
  start(): void {
    this.timer ??= setInterval(() => this.sample(), SAMPLE_MS)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** A node process's report (NodeProcess.onStats). */
  report(id: string, report: StatsReport): void {
    const prev = this.latest.get(id)?.report
    const dt = prev && prev.pid === report.pid && report.at > prev.at ? (report.at - prev.at) / 1_000 : 0
    const rate = (now: number, before: number): number => Math.max(0, now - before) / dt
    const rates =
      prev && dt > 0
        ? {
            messagesIn: rate(report.messagesIn, prev.messagesIn),
            messagesOut: rate(report.messagesOut, prev.messagesOut),
            resumes: rate(report.resumes, prev.resumes),
            calls: rate(report.store.calls, prev.store.calls),
            failures: rate(report.store.failures, prev.store.failures),
          }
        : undefined
    this.latest.set(id, { report, rates, received: this.now() })
    this.reconnects.resumed(report.resumedAt)
  }

  /** Takes one sample of every node now (the timer's work; tests call it directly). */
  sample(): void {
    const nodes = new Map<string, NodeSample>()
    for (const node of this.source.nodes()) {
      const rates = this.fresh(node)?.rates
      nodes.set(node.id, { connections: node.connections, messagesIn: rates?.messagesIn ?? null, messagesOut: rates?.messagesOut ?? null, resumes: rates?.resumes ?? null })
    }
    this.samples.push({ at: this.now(), nodes })
    if (this.samples.length > WINDOW_SAMPLES) this.samples.splice(0, this.samples.length - WINDOW_SAMPLES)
  }

  /** Samples taken after `after` (ms since the epoch; default: the whole window), the store and the last fault. */
  snapshot(after = 0): StatsSnapshot {
    const taken = this.samples.filter((s) => s.at > after)
    const ids = [...new Set(taken.flatMap((s) => [...s.nodes.keys()]))].sort(byId)
    const nodes: StatsSnapshot['nodes'] = {}
    for (const id of ids) {
      const column = <K extends keyof NodeSample>(key: K): (NodeSample[K] | null)[] => taken.map((s) => s.nodes.get(id)?.[key] ?? null)
      nodes[id] = { connections: column('connections'), messagesIn: column('messagesIn'), messagesOut: column('messagesOut'), resumes: column('resumes') }
    }
    return { intervalMs: SAMPLE_MS, at: taken.map((s) => s.at), nodes, store: this.storeState(), lastFault: this.reconnects.last() }
  }

  private storeState(): StoreState {
    const nodes: Record<string, NodeStoreState> = {}
    const rank: StoreHealth[] = ['unknown', 'ok', 'slow', 'failing']
    let worst: StoreHealth = 'unknown'
    for (const node of this.source.nodes()) {
      if (node.status === 'dead') continue
      const latest = this.fresh(node)
      const s = latest?.report.store
      const failuresPerSec = latest?.rates?.failures ?? 0
      const state: StoreHealth = !s ? 'unknown' : failuresPerSec > 0 ? 'failing' : Math.max(s.oldestWaitingMs, s.slowestMs) >= STORE_SLOW_MS ? 'slow' : 'ok'
      nodes[node.id] = { state, callsPerSec: latest?.rates?.calls ?? 0, failuresPerSec, waiting: s?.waiting ?? 0, oldestWaitingMs: s?.oldestWaitingMs ?? 0, slowestMs: s?.slowestMs ?? 0 }
      if (rank.indexOf(state) > rank.indexOf(worst)) worst = state
    }
    return { ...this.source.store(), state: worst, nodes }
  }

  /** The node's latest report, if it is recent and from its current process. */
  private fresh(node: ClusterNode): Latest | undefined {
    const latest = this.latest.get(node.id)
    if (!latest || latest.report.pid !== node.pid || node.status === 'dead' || this.now() - latest.received > STALE_MS) return undefined
    return latest
  }
}

/** n2 before n10. */
function byId(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true })
}
