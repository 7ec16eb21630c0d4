/**
 * startCluster: the store, the balancer (with the admin API on its port) and the node processes, in that
 * order, so nodes have a store to reach and the admin API answers as soon as the cluster exists.
 */
import { Balancer } from '../balancer/index.js'
import { randomSecret } from '../security/token.js'
import { apiKeyMatcher } from '../security/api-keys.js'
import { createVerifier } from '../security/jwt.js'
import { MemoryStore } from '../store/memory.js'
import type { Store } from '../store/types.js'
import { createAdminHandler } from '../admin/api.js'
import { ClusterError, ClusterErrorCode } from '../errors.js'
import { defaultNodeEntry } from './node-process.js'
import { checkNodeImpairment, defaultLog, Supervisor } from './supervisor.js'
import type { Cluster, ClusterOptions } from './types.js'

/** Starts a cluster: the store, the balancer, `nodes` node processes; resolves once every node is up. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const count = options.nodes ?? 3
  if (!Number.isInteger(count) || count < 0) throw new ClusterError(ClusterErrorCode.BAD_OPTION, `nodes must be an integer >= 0, got ${count}`)
  const spec = options.store ?? 'memory'
  if (typeof spec === 'string' && spec !== 'memory' && !/^rediss?:\/\//.test(spec)) {
    throw new ClusterError(ClusterErrorCode.BAD_OPTION, `store must be "memory", a redis:// URL or a Store, got "${spec}"`)
  }
  // Before anything is started: a bad impairment fails here, naming the field, with nothing to clean up.
  if (options.impair !== undefined) checkNodeImpairment(options.impair, typeof spec === 'string' && spec !== 'memory')
  const store: Store | string = spec === 'memory' ? new MemoryStore({ retention: options.retention }) : spec
  const ownsStore = spec === 'memory'
  // Checked here, where the option is named, rather than by every node process as it fails to start.
  if (options.apiKeys?.some((k) => typeof k !== 'string' || k.includes(','))) {
    throw new ClusterError(ClusterErrorCode.BAD_OPTION, 'apiKeys: every key must be a string without commas (nodes get them comma-separated, as LIFELINE_API_KEYS)')
  }
  try {
    if (options.apiKeys?.length) apiKeyMatcher(options.apiKeys)
    if (options.auth) createVerifier(options.auth)
  } catch (e) {
    throw new ClusterError(ClusterErrorCode.BAD_OPTION, (e as Error).message)
  }
  for (const name of ['issuer', 'audience'] as const) {
    if (Array.isArray(options.auth?.jwt[name])) throw new ClusterError(ClusterErrorCode.BAD_OPTION, `auth.jwt.${name}: one string for a cluster (createNode takes a list)`)
  }
  const resolved = {
    ...options,
    host: options.host ?? '127.0.0.1',
    secret: options.secret ?? randomSecret(),
    entry: options.nodeEntry ?? defaultNodeEntry(),
  }
  let cluster: Supervisor | undefined
  const log = (line: string): void => (options.log ?? defaultLog)(line, 'stderr')
  const admin = createAdminHandler(() => cluster, { allowRemote: options.adminRemote ?? false, host: resolved.host, log })
  const balancer = new Balancer({ port: options.port ?? 0, host: resolved.host, health: options.health, onRequest: admin, log })
  try {
    await balancer.listen()
  } catch (e) {
    if (ownsStore && typeof store !== 'string') await store.close()
    const err = e as NodeJS.ErrnoException
    const why = err.code === 'EADDRINUSE' ? `port ${options.port} is in use; pick another, or 0 for any free one` : err.message
    throw new ClusterError(ClusterErrorCode.BAD_OPTION, `the balancer cannot listen on ${resolved.host}:${options.port ?? 0}: ${why}`)
  }
  cluster = new Supervisor(resolved, balancer, store, ownsStore)
  try {
    await cluster.startNodes(count)
  } catch (e) {
    await cluster.stop()
    throw e
  }
  return cluster
}
