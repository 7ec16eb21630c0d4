/**
 * Puts a worker's cluster back the way the next test expects it: `size` nodes, all up, impaired only as the
 * cluster was started (`impair`). Tests kill, drain, freeze, remove and impair nodes and pages; the cluster
 * outlives the test (one per worker, because starting node processes costs seconds), so whatever a test broke is
 * mended here, through the public Cluster API only.
 */
import type { Cluster } from '../cluster/types.js'
import { parseImpairment, type ImpairOptions } from '../faults/options.js'

/** Healing waits at most this long for nodes to pass their health checks (2 × 500 ms probes, plus a start). */
const HEAL_TIMEOUT_MS = 20_000

export async function healCluster(cluster: Cluster, size: number, impair?: ImpairOptions): Promise<void> {
  // Network faults first: a blackholed node fails its health checks, so the wait for every node up below
  // would wait for nothing.
  await healFaults(cluster, impair)
  for (const node of cluster.nodes) {
    if (node.status === 'frozen') await cluster.thaw(node.id)
    else if (node.status === 'dead' || node.status === 'draining') await cluster.restart(node.id)
  }
  for (let missing = size - cluster.nodes.length; missing > 0; missing -= 1) await cluster.addNode()
  // Nodes added here start as the cluster's default says, which an earlier heal() may have ended.
  await healFaults(cluster, impair)
  // Thawed nodes (and ones that were failing checks) come back after their next good health check.
  const deadline = Date.now() + HEAL_TIMEOUT_MS
  while (cluster.nodes.some((n) => n.status !== 'up')) {
    if (Date.now() > deadline) {
      const states = cluster.nodes.map((n) => `${n.id}:${n.status}${n.impairment ? ' (impaired)' : ''}`).join(', ')
      throw new Error(`cluster did not heal within ${HEAL_TIMEOUT_MS} ms (${states})`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * Every impaired session healed, every node impaired as `impair` says (the cluster's own option) or not at all.
 * Node by node rather than heal() for all: that would also end the cluster-wide default for nodes added later.
 * Nothing is asked of a cluster that is as it should be, so a test without faults leaves no event behind.
 */
async function healFaults(cluster: Cluster, impair: ImpairOptions | undefined): Promise<void> {
  const { nodes, sessions } = cluster.faults
  for (const session of Object.keys(sessions)) await cluster.healSession(session)
  const want = impair === undefined ? undefined : JSON.stringify(parseImpairment(impair))
  for (const node of cluster.nodes) {
    const has = nodes[node.id] === undefined ? undefined : JSON.stringify(nodes[node.id])
    if (has === want) continue
    if (impair === undefined) await cluster.heal(node.id)
    else await cluster.impair(node.id, impair)
  }
}
