/** A node's public status from its slot's lifecycle and the balancer's view of it (pure, no processes). */
import { describe, expect, it } from 'vitest'
import { nodeStatus, type RoutingView } from '../src/cluster/lifecycle.js'

const up: RoutingView = { health: 'up', draining: false }
const down: RoutingView = { health: 'down', draining: false }
const leaving: RoutingView = { health: 'up', draining: true }

describe('nodeStatus', () => {
  it('a process that is not running says so, whatever the balancer still thinks', () => {
    for (const routing of [up, down, leaving, undefined]) {
      expect(nodeStatus('new', routing)).toBe('dead')
      expect(nodeStatus('exited', routing)).toBe('dead')
      expect(nodeStatus('starting', routing)).toBe('starting')
      expect(nodeStatus('frozen', routing)).toBe('frozen')
      expect(nodeStatus('draining', routing)).toBe('draining')
    }
  })

  it('a running node is what its health checks say, draining once it is out of routing for leaving', () => {
    expect(nodeStatus('running', up)).toBe('up')
    expect(nodeStatus('running', down)).toBe('down')
    expect(nodeStatus('running', leaving)).toBe('draining')
    expect(nodeStatus('running', { health: 'down', draining: true })).toBe('draining')
    expect(nodeStatus('running', undefined)).toBe('down') // listening, not yet routed to
  })
})
