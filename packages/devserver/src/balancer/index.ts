export { Balancer, createBalancer, type BalancerOptions, type BackendAddress, type BackendInfo, type BackendChange } from './balancer.js'
export { HEALTH_DEFAULTS, type HealthOptions, type Health } from './health.js'
export { pickRendezvous, rendezvousScore } from './rendezvous.js'
