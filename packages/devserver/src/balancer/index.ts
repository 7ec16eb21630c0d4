export { Balancer, createBalancer, type BalancerOptions, type BackendAddress, type BackendInfo, type BackendChange } from './balancer.js'
export { HEALTH_DEFAULTS, type HealthOptions } from './health.js'
