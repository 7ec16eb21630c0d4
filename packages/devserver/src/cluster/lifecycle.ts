/**
 * A node slot's lifecycle: what the supervisor knows of its current process, as one value. The supervisor
 * changes it in one place (`Supervisor.move`); a node's public status is derived from it and the balancer's view
 * of the node by `nodeStatus`, a pure function.
 */
import type { NodeProcess } from './node-process.js'
import type { ClusterNodeStatus } from './types.js'

/**
 * new       no process yet (or its spawn threw before there was one).
 * starting  spawned, not yet listening.
 * running   listening; the balancer's health checks say whether it is up.
 * frozen    SIGSTOPped by freeze (or kill with SIGSTOP).
 * draining  SIGTERM sent by drain (also remove and restart): its exit is expected, so it is not restarted.
 * exited    the process is gone; `proc` is the last one (its pid and port stay on show).
 */
export type Life =
  | { type: 'new' }
  | { type: 'starting'; proc: NodeProcess }
  | { type: 'running'; proc: NodeProcess }
  | { type: 'frozen'; proc: NodeProcess }
  | { type: 'draining'; proc: NodeProcess }
  | { type: 'exited'; proc: NodeProcess }

/** What the balancer shows of the node (BackendInfo), or undefined when it does not route to it. */
export interface RoutingView {
  health: 'up' | 'down'
  draining: boolean
}

/**
 * The public status. Only a running node asks the balancer: up or down by its health checks, draining if it is
 * out of routing for leaving (SIGTERM from kill, or its healthz says so), down while not yet routed to.
 */
export function nodeStatus(life: Life['type'], routing: RoutingView | undefined): ClusterNodeStatus {
  switch (life) {
    case 'new':
    case 'exited':
      return 'dead'
    case 'starting':
    case 'frozen':
    case 'draining':
      return life
    case 'running':
      if (routing?.draining) return 'draining'
      return routing?.health === 'up' ? 'up' : 'down'
  }
}
