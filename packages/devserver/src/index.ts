/**
 * @lifeline/devserver, the public surface (Playwright fixtures are `@lifeline/devserver/testing`):
 *   node      createNode: a node inside your own Node server, with its options, hooks and NODE_DEFAULTS;
 *             runNode: the `lifeline node` process, for a custom `nodeEntry` script.
 *   stores    MemoryStore, createRedisStore, openStore (a `--store` spec → a Store), the Store interface and the
 *             types it speaks, DEFAULT_RETENTION.
 *   cluster   startCluster: `lifeline dev` as an API, with its options and node records; ClusterError and
 *             ClusterErrorCode, every code the supervisor, admin API and balancer answer with (src/errors.ts);
 *             ImpairOptions, what cluster.impair / impairSession take (network faults, faults/options.ts).
 *   balancer  Balancer / createBalancer and HEALTH_DEFAULTS: the same sticky routing in front of nodes you run.
 *   backend   createServerApi: a typed client of the HTTP API (also alone, as `@lifeline/devserver/api`), and the
 *             types of the auth and webhook options.
 * Everything else (session tokens, the IPC store nodes of a cluster share, argument parsing) is internal: modules
 * import it by path, and it may change in any release.
 */
export { createNode, type LifelineNode, type NodeHealth, type NodeStatus } from './node/node.js'
export { NODE_DEFAULTS, type NodeOptions, type MessageContext, type MessageHandler, type AuthorizeHook } from './node/options.js'
export type { RateLimit } from './node/core/rate-limit.js'
export { runNode } from './node/main.js'
export { MemoryStore, type MemoryStoreOptions } from './store/memory.js'
export { createRedisStore, openStore, type OpenStoreOptions } from './store/open.js'
export type { RedisStoreOptions } from './store/redis-client.js'
export { DEFAULT_RETENTION } from './store/retention.js'
export type * from './store/types.js'
export { startCluster, ClusterError, ClusterErrorCode } from './cluster/index.js'
export type { Cluster, ClusterNode, ClusterOptions, ClusterNodeStatus, NodeProcessOptions, ClusterFaults } from './cluster/index.js'
export { MAX_DELAY_MS, type ImpairOptions, type StoreImpairment, type FaultState } from './faults/options.js'
export type { ClusterEvent, ClusterEventKind, EventLog } from './cluster/index.js'
export type { ClusterStats, StatsSnapshot, NodeSample, StoreState, NodeStoreState, StoreHealth, LastFault } from './cluster/index.js'
export { createServerApi, ServerApiError } from './api/client.js'
export type { ServerApi, ServerApiOptions, Published, HistoryAnswer, PresenceAnswer, DisconnectAnswer } from './api/client.js'
export type { AuthOptions, JwtOptions } from './security/jwt.js'
export type { WebhookOptions } from './node/webhooks.js'
export { Balancer, createBalancer, HEALTH_DEFAULTS } from './balancer/index.js'
export type { BalancerOptions, BackendAddress, BackendInfo, BackendChange, HealthOptions } from './balancer/index.js'
