export { startCluster } from './start.js'
export { ClusterError, ClusterErrorCode } from '../errors.js'
export type { Cluster, ClusterNode, ClusterOptions, ClusterNodeStatus, NodeProcessOptions } from './types.js'
