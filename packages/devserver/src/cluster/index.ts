export { startCluster } from './start.js'
export { ClusterError, ClusterErrorCode } from './errors.js'
export type { Cluster, ClusterNode, ClusterOptions, ClusterNodeStatus, NodeProcessOptions } from './types.js'
// The balancer on its own, for apps that run nodes themselves but want the same sticky routing in front.
export { Balancer, createBalancer, HEALTH_DEFAULTS } from '../balancer/index.js'
export type { BalancerOptions, BackendAddress, BackendInfo, BackendChange, HealthOptions } from '../balancer/index.js'
