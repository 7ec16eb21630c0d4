/** The cluster the fault tests share: one per file, healed after each test so each starts whole. */
import { afterAll, afterEach, beforeAll } from 'vitest'
import { startCluster, type Cluster, type ClusterOptions } from '../../src/cluster/index.js'
import { healCluster } from '../../src/testing/heal.js'
import { startLoad, type Load, type LoadClient, type LoadOptions } from './load.js'

export interface FaultCluster {
  /** The running cluster (started in beforeAll). */
  readonly cluster: Cluster
  /** Starts this test's load on the cluster; it is closed after the test, before the cluster is healed. */
  startLoad(options: Omit<LoadOptions, 'url'>): Promise<Load>
}

const SIZE = 3

/**
 * Registers the hooks: a 3-node cluster for the file (with `options`: a heartbeat, health checks, a store the test
 * inspects); after each test its load closed and the cluster healed (healCluster). A Store object given in
 * `options.store` is the file's: it is closed after the cluster stopped.
 */
export function useFaultCluster(options: Partial<ClusterOptions> = {}): FaultCluster {
  let cluster: Cluster | undefined
  let load: Load | undefined
  beforeAll(async () => {
    cluster = await startCluster({ nodes: SIZE, ...options })
  })
  afterEach(async () => {
    await load?.close()
    load = undefined
    await healCluster(cluster as Cluster, SIZE)
  })
  afterAll(async () => {
    await cluster?.stop()
    if (typeof options.store === 'object') await options.store.close()
  })
  return {
    get cluster() {
      return cluster as Cluster
    },
    async startLoad(loadOptions) {
      load = await startLoad({ url: (cluster as Cluster).url, ...loadOptions })
      return load
    },
  }
}

/** Runs `load` to the end, SIGKILLing `victim` (not awaited, as a crash is) at `tick`; resolves with when it was killed (0 if never). */
export async function runKillingAt(load: Load, cluster: Cluster, victim: string, tick: number): Promise<number> {
  let killedAt = 0
  await load.run((t) => {
    if (t === tick) {
      killedAt = Date.now()
      void cluster.kill(victim)
    }
  })
  return killedAt
}

/** The node with the most client connections (the one whose death hurts most). */
export function busiestNode(cluster: Cluster): string {
  const sorted = [...cluster.nodes].sort((a, b) => b.connections - a.connections)
  return (sorted[0] as { id: string }).id
}

/** The session id of a load client (it has one once it was welcomed). */
export const sidOf = (c: LoadClient): string => c.client.sessionId as string

/** The load's clients whose session `node` serves now. */
export function clientsOn(cluster: Cluster, clients: readonly LoadClient[], node: string): LoadClient[] {
  return clients.filter((c) => cluster.nodeOf(sidOf(c)) === node)
}
