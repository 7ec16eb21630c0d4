/**
 * Puts a worker's cluster back the way the next test expects it: `size` nodes, all up. Tests kill, drain,
 * freeze and remove nodes; the cluster outlives the test (one per worker, because starting node processes
 * costs seconds), so whatever a test broke is mended here, through the public Cluster API only.
 */
import type { Cluster } from '../cluster/types.js'

/** Healing waits at most this long for nodes to pass their health checks (2 × 500 ms probes, plus a start). */
const HEAL_TIMEOUT_MS = 20_000

export async function healCluster(cluster: Cluster, size: number): Promise<void> {
  for (const node of cluster.nodes) {
    if (node.status === 'frozen') await cluster.thaw(node.id)
    else if (node.status === 'dead' || node.status === 'draining') await cluster.restart(node.id)
  }
  for (let missing = size - cluster.nodes.length; missing > 0; missing -= 1) await cluster.addNode()
  // Thawed nodes (and ones that were failing checks) come back after their next good health check.
  const deadline = Date.now() + HEAL_TIMEOUT_MS
  while (cluster.nodes.some((n) => n.status !== 'up')) {
    if (Date.now() > deadline) {
      const states = cluster.nodes.map((n) => `${n.id}:${n.status}`).join(', ')
      throw new Error(`cluster did not heal within ${HEAL_TIMEOUT_MS} ms (${states})`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
