/** The cluster's event log (cluster/events.ts), through the API and GET /_lifeline/api/events. Real node processes. */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startCluster, type Cluster } from '../src/cluster/index.js'
import type { ClusterEvent } from '../src/cluster/events.js'
import { EventLog, MAX_EVENTS } from '../src/cluster/events.js'

let cluster: Cluster
beforeAll(async () => {
  cluster = await startCluster({ nodes: 2, port: 0 })
})
afterAll(async () => {
  await cluster?.stop()
})

const events = async (after?: number): Promise<ClusterEvent[]> => {
  const res = await fetch(`${cluster.adminUrl}/events${after === undefined ? '' : `?after=${after}`}`)
  expect(res.status).toBe(200)
  return ((await res.json()) as { events: ClusterEvent[] }).events
}

it('records the start, then a kill as the action, the process exit and the routing change, in order', async () => {
  const start = await events()
  expect(start.filter((e) => e.kind === 'node').map((e) => `${e.node} ${e.text}`)).toEqual(
    expect.arrayContaining(['n1 new → starting', 'n1 starting → running', 'n2 new → starting', 'n2 starting → running']),
  )
  const last = start.at(-1)?.seq ?? 0
  await cluster.kill('n1')
  const after = await events(last)
  console.log(after.map((e) => `${e.seq} ${e.kind} ${e.node} ${e.text}`).join('\n'))
  expect(after[0]?.seq).toBe(last + 1)
  const texts = after.map((e) => `${e.kind} ${e.node} ${e.text}`)
  const kill = texts.indexOf('action n1 kill SIGKILL')
  const exit = texts.indexOf('node n1 running → exited (SIGKILL)')
  const down = texts.findIndex((t) => t.startsWith('routing n1 down (process exited)'))
  expect([kill, exit, down].every((i) => i >= 0), texts.join('\n')).toBe(true)
  expect(kill).toBeLessThan(exit)
  for (let i = 1; i < after.length; i++) expect(after[i]!.at).toBeGreaterThanOrEqual(after[i - 1]!.at)
})

it('refuses an `after` that is not a seq, with BAD_OPTION', async () => {
  const res = await fetch(`${cluster.adminUrl}/events?after=-1`)
  expect(res.status).toBe(400)
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BAD_OPTION')
})

it('keeps the newest MAX_EVENTS, and seq tells a reader it missed some', () => {
  const log = new EventLog()
  for (let i = 0; i < MAX_EVENTS + 10; i++) log.record('action', 'n1', `a${i}`)
  const all = log.list()
  expect(all.length).toBe(MAX_EVENTS)
  expect(all[0]?.seq).toBe(11)
  expect(log.list(MAX_EVENTS + 5).map((e) => e.seq)).toEqual([MAX_EVENTS + 6, MAX_EVENTS + 7, MAX_EVENTS + 8, MAX_EVENTS + 9, MAX_EVENTS + 10])
})
