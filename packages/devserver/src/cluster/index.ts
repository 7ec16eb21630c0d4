export { startCluster } from './supervisor.js'
export { ClusterError, ClusterErrorCode } from './errors.js'
export type { Cluster, ClusterNode, ClusterOptions, NodeStatus, NodeProcessOptions } from './types.js'
