/**
 * The cluster's event log: every node state change, routing change, fault and action, in order, with its
 * time. What a developer watching a failover reads (the dashboard, GET /_lifeline/api/events), and what a test
 * can await. Bounded: the newest MAX_EVENTS are kept; `seq` keeps counting, so a reader polling with
 * `after` can tell it missed some (the first seq it gets is not after + 1).
 */
import { EventEmitter } from 'node:events'

/** Events kept. 2,000: hours of a chaos run at one event every few seconds, a few hundred KB at most. */
export const MAX_EVENTS = 2_000

/**
 * kind:
 *   node     a node's lifecycle moved (`from` → `to`: starting, running, draining, frozen, exited)
 *   routing  the balancer changed a node's routing (health, draining) or closed its connections
 *   action   something was asked of the cluster (kill, drain, freeze, thaw, add, remove, restart, impair, heal)
 */
export type ClusterEventKind = 'node' | 'routing' | 'action'

export interface ClusterEvent {
  /** 1, 2, 3 … for the life of the cluster. */
  seq: number
  /** ms since the epoch. */
  at: number
  kind: ClusterEventKind
  /** The node it concerns; absent for cluster-wide events. */
  node?: string
  /** One line, for people: "kill SIGKILL", "running → exited (SIGKILL)", "down (probe: timeout), closed 12 connections". */
  text: string
  /** The same, for programs: whatever fields the kind has. */
  detail?: Record<string, unknown>
}

export class EventLog extends EventEmitter<{ event: [ClusterEvent] }> {
  private readonly events: ClusterEvent[] = []
  private seq = 0

  record(kind: ClusterEventKind, node: string | undefined, text: string, detail?: Record<string, unknown>): ClusterEvent {
    const event: ClusterEvent = { seq: ++this.seq, at: Date.now(), kind, ...(node === undefined ? {} : { node }), text, ...(detail ? { detail } : {}) }
    this.events.push(event)
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS)
    this.emit('event', event)
    return event
  }

  /** Events with seq > `after` (default: all kept), oldest first. */
  list(after = 0): ClusterEvent[] {
    const first = this.events.findIndex((e) => e.seq > after)
    return first < 0 ? [] : this.events.slice(first)
  }
}
