/**
 * How long clients took to come back after the last fault: from the moment a fault was asked for (kill, drain,
 * freeze, restart, remove, a blackhole of a node's client links) or a node exited unasked, to each resume the
 * nodes reported after it. The
 * dashboard draws it as a histogram; it is the number a developer watching a failover wants.
 *
 * Measured on the server, from the fault's event to each resume's welcome, so it includes what the client
 * cannot see: the time a frozen node's clients took to notice the silence, and the balancer's routing.
 * A resume is counted for the newest fault before it (within FAULT_WINDOW_MS), whichever node it was on; a fault
 * that cuts no connection (restarting a dead node) does not replace a recent one that did.
 */
import type { ClusterEvent } from './events.js'

/** Actions that make a node's clients reconnect. An `impair` is one only when it blackholes them (isCut). */
export const FAULT_ACTIONS: ReadonlySet<string> = new Set(['kill', 'drain', 'freeze', 'restart', 'remove', 'impair'])

/**
 * Whether an action event cuts its node's clients off. Latency, jitter, bandwidth and a cut store slow them or
 * refuse their writes but leave them connected, so such an impair must not replace the histogram of a fault that
 * made clients come back; nor one page's own link (`session`), which is one connection, not the node's.
 */
function isCut(e: ClusterEvent): boolean {
  if (e.detail?.action !== 'impair') return true
  const impairment = e.detail.impairment as { blackhole?: unknown } | undefined
  return e.detail.session === undefined && impairment?.blackhole === true
}

/**
 * Resumes this long after a fault are its. 60 s: past the worst a fault should cost (a frozen node: heartbeat
 * timeout 5 s, then the SDK's backoff, at most 10 s), with room for a slow machine; later ones are something else.
 */
export const FAULT_WINDOW_MS = 60_000

/** Upper bounds of the histogram's buckets, ms: fine where handoffs land (under a second), coarse where freezes do. */
export const RECONNECT_BOUNDS_MS: readonly number[] = [100, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 30_000, FAULT_WINDOW_MS]

/** Resume times kept for one fault: far more clients than a dev cluster holds, and 800 KB at most. */
const MAX_TIMES = 100_000

export interface LastFault {
  /** The fault's event (events.ts): its seq, time, node and text ("kill SIGKILL", "running → exited (code 1)"). */
  seq: number
  at: number
  node?: string
  text: string
  /** Connections the balancer had routed to that node when it happened: how many should come back. */
  affected: number
  /** Resumes counted for it so far. */
  resumed: number
  /** Of those, ms from the fault; undefined while none. */
  p50Ms?: number
  p90Ms?: number
  p99Ms?: number
  maxMs?: number
  /** counts[i]: resumes after boundsMs[i - 1] and at most boundsMs[i] ms from the fault (RECONNECT_BOUNDS_MS). */
  histogram: { boundsMs: readonly number[]; counts: number[] }
}

export class FaultReconnects {
  private fault: { event: ClusterEvent; affected: number; times: number[]; sorted: boolean } | undefined
  /** Nodes a fault was asked of since they last started: their exit is that fault's, not a new one. */
  private readonly asked = new Set<string>()

  constructor(private readonly connectionsOf: (node: string) => number) {}

  /** Every event of the cluster's log, in order. */
  event(e: ClusterEvent): void {
    const action = e.detail?.action
    if (e.kind === 'action' && typeof action === 'string' && FAULT_ACTIONS.has(action)) {
      if (!isCut(e)) return
      if (e.node !== undefined) this.asked.add(e.node)
      return this.begin(e)
    }
    if (e.kind !== 'node' || e.node === undefined) return
    if (e.detail?.to === 'starting') this.asked.delete(e.node)
    // A crash nobody asked for (or a kill from outside the cluster) is a fault of its own.
    if (e.detail?.to === 'exited' && !this.asked.has(e.node)) this.begin(e)
  }

  /** Resume times a node reported (ms since the epoch). */
  resumed(times: readonly number[]): void {
    const fault = this.fault
    if (!fault) return
    for (const t of times) {
      const ms = t - fault.event.at
      if (ms < 0 || ms > FAULT_WINDOW_MS || fault.times.length >= MAX_TIMES) continue
      fault.times.push(ms)
      fault.sorted = false
    }
  }

  last(): LastFault | null {
    const fault = this.fault
    if (!fault) return null
    if (!fault.sorted) fault.times.sort((a, b) => a - b)
    fault.sorted = true
    const times = fault.times
    const counts = RECONNECT_BOUNDS_MS.map(() => 0)
    let bucket = 0
    for (const ms of times) {
      while (ms > RECONNECT_BOUNDS_MS[bucket]!) bucket++
      counts[bucket]!++
    }
    const { seq, at, node, text } = fault.event
    const q = (p: number): number | undefined => (times.length ? times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)] : undefined)
    return {
      seq,
      at,
      ...(node === undefined ? {} : { node }),
      text,
      affected: fault.affected,
      resumed: times.length,
      p50Ms: q(0.5),
      p90Ms: q(0.9),
      p99Ms: q(0.99),
      maxMs: times[times.length - 1],
      histogram: { boundsMs: RECONNECT_BOUNDS_MS, counts },
    }
  }

  private begin(event: ClusterEvent): void {
    const affected = event.node === undefined ? 0 : this.connectionsOf(event.node)
    // Restarting the node just killed (no connections left) must not wipe the kill's histogram while its
    // clients are still coming back: a fault that cuts nobody does not replace a recent one that did.
    const current = this.fault
    if (affected === 0 && current && current.affected > 0 && event.at - current.event.at <= FAULT_WINDOW_MS) return
    this.fault = { event, affected, times: [], sorted: true }
  }
}
