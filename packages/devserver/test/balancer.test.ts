/** The balancer's pure parts: rendezvous stickiness, even spread, health counting, welcome sniffing. */
import { describe, expect, it } from 'vitest'
import { pickRendezvous } from '../src/balancer/rendezvous.js'
import { LeastConnections } from '../src/balancer/spread.js'
import { HEALTH_DEFAULTS, initialHealth, nextHealth, type HealthState } from '../src/balancer/health.js'
import { sniffWelcome } from '../src/balancer/sniff.js'

const sessions = Array.from({ length: 3000 }, (_, i) => `session-${i}`)

describe('rendezvous hashing', () => {
  it('losing a node moves only that node’s sessions, spread over the rest', () => {
    const before = new Map(sessions.map((s) => [s, pickRendezvous(s, ['n1', 'n2', 'n3', 'n4'])]))
    const after = new Map(sessions.map((s) => [s, pickRendezvous(s, ['n1', 'n2', 'n4'])]))
    let moved = 0
    const landed: Record<string, number> = {}
    for (const s of sessions) {
      if (before.get(s) === 'n3') {
        const to = after.get(s) as string
        landed[to] = (landed[to] ?? 0) + 1
      } else if (before.get(s) !== after.get(s)) moved++
    }
    expect(moved).toBe(0)
    // The lost node's share goes to every survivor, not to one neighbour (as a naive ring would).
    for (const id of ['n1', 'n2', 'n4']) expect(landed[id]).toBeGreaterThan(150)
  })

  it('adding a node moves only the sessions it now wins, about 1/n of them', () => {
    const before = new Map(sessions.map((s) => [s, pickRendezvous(s, ['n1', 'n2', 'n3'])]))
    let moved = 0
    for (const s of sessions) {
      const now = pickRendezvous(s, ['n1', 'n2', 'n3', 'n4'])
      if (now !== before.get(s)) {
        expect(now).toBe('n4')
        moved++
      }
    }
    expect(moved / sessions.length).toBeGreaterThan(0.2)
    expect(moved / sessions.length).toBeLessThan(0.3)
  })

  it('spreads sessions evenly and answers undefined with no node', () => {
    const counts: Record<string, number> = {}
    for (const s of sessions) {
      const id = pickRendezvous(s, ['a', 'b', 'c']) as string
      counts[id] = (counts[id] ?? 0) + 1
    }
    for (const id of ['a', 'b', 'c']) expect(Math.abs((counts[id] ?? 0) - 1000)).toBeLessThan(120)
    expect(pickRendezvous('x', [])).toBeUndefined()
  })
})

describe('least connections', () => {
  it('spreads a burst of new sessions one per node, and fills an empty node first', () => {
    const spread = new LeastConnections()
    const counts = new Map([['n1', 0], ['n2', 0], ['n3', 0]])
    const pick = (): string => {
      const id = spread.pick([...counts].map(([id, connections]) => ({ id, connections }))) as string
      counts.set(id, (counts.get(id) ?? 0) + 1)
      return id
    }
    for (let i = 0; i < 30; i++) pick()
    expect([...counts.values()]).toEqual([10, 10, 10])
    counts.set('n4', 0) // a node restarted empty
    for (let i = 0; i < 10; i++) expect(pick()).toBe('n4')
    expect(spread.pick([])).toBeUndefined()
  })
})

describe('health counting', () => {
  const run = (state: HealthState, results: boolean[]): string[] =>
    results.map((ok) => (state = nextHealth(state, ok, HEALTH_DEFAULTS)).health)

  it('goes down after 2 failures in a row, up after 1 success', () => {
    expect(run(initialHealth('up'), [false, true, false, false, false, true])).toEqual(['up', 'up', 'up', 'down', 'down', 'up'])
    expect(run(initialHealth('down'), [true])).toEqual(['up'])
  })
})

describe('welcome sniffing', () => {
  const head = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'
  const textFrame = (text: string): Buffer => {
    const payload = Buffer.from(text)
    const len = payload.length < 126 ? Buffer.from([0x81, payload.length]) : Buffer.from([0x81, 126, payload.length >> 8, payload.length & 0xff])
    return Buffer.concat([len, payload])
  }
  const welcome = JSON.stringify({ t: 'welcome', session: { id: 's1', token: 't' }, node: 'n2', resumed: false, acked: 0 })

  it('finds the session id in the first text frame, skipping a ping, across chunks', () => {
    const all = Buffer.concat([Buffer.from(head), Buffer.from([0x89, 0]), textFrame(welcome + ' '.repeat(200))])
    expect(sniffWelcome(all.subarray(0, 40))).toEqual({ state: 'more' })
    expect(sniffWelcome(all.subarray(0, all.length - 1))).toEqual({ state: 'more' })
    expect(sniffWelcome(all)).toEqual({ state: 'found', sessionId: 's1', node: 'n2' })
  })

  it('gives up on a refused upgrade, a compressed frame or another first frame', () => {
    expect(sniffWelcome(Buffer.from('HTTP/1.1 403 Forbidden\r\n\r\n'))).toEqual({ state: 'give-up' })
    const compressed = textFrame(welcome)
    compressed[0] = 0xc1
    expect(sniffWelcome(Buffer.concat([Buffer.from(head), compressed]))).toEqual({ state: 'give-up' })
    expect(sniffWelcome(Buffer.concat([Buffer.from(head), textFrame('{"t":"msg"}')]))).toEqual({ state: 'give-up' })
  })
})
