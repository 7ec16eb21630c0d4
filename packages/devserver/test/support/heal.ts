/** Between fault tests: thaw frozen nodes and restart dead ones, so each test starts on a whole cluster. */
import type { Cluster } from '../../src/cluster/index.js'
import { waitFor } from './wait.js'

export async function healCluster(cluster: Cluster): Promise<void> {
  for (const node of cluster.nodes) {
    if (node.status === 'frozen') await cluster.thaw(node.id)
    else if (node.status === 'dead') await cluster.restart(node.id)
  }
  await waitFor(() => cluster.nodes.every((n) => n.status === 'up'), 'every node up again', 10_000)
}

/** The node with the most client connections (the one whose death hurts most). */
export function busiestNode(cluster: Cluster): string {
  const sorted = [...cluster.nodes].sort((a, b) => b.connections - a.connections)
  return (sorted[0] as { id: string }).id
}
