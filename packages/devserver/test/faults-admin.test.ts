/**
 * Network faults from the outside: the admin API's impair/heal routes (pure routing, then a real 2-node cluster),
 * what `cluster.impair` refuses, and `lifeline dev --latency/--jitter` as a user runs it (real processes: run
 * `npm run build` first).
 */
import { spawnSync } from 'node:child_process'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, ClusterError, type Cluster, type ClusterNode } from '../src/cluster/index.js'
import { routeAdmin } from '../src/admin/routes.js'
import { MAX_ADMIN_BODY_BYTES } from '../src/admin/api.js'
import type { ImpairOptions } from '../src/faults/options.js'
import { RawClient } from './fixtures/raw-client.js'
import { CLI, devStarter } from './support/dev-cli.js'

describe('admin routes for network faults', () => {
  const route = (method: string, path: string) => routeAdmin(method, new URL(path, 'http://x'))
  it('maps impair and heal, per node, per session and for all', () => {
    expect(route('POST', '/_lifeline/api/nodes/n2/impair')).toEqual({ kind: 'impair', id: 'n2' })
    expect(route('POST', '/_lifeline/api/nodes/n2/heal')).toEqual({ kind: 'heal', id: 'n2' })
    expect(route('POST', '/_lifeline/api/heal')).toEqual({ kind: 'heal-all' })
    expect(route('POST', '/_lifeline/api/sessions/s%201/impair')).toEqual({ kind: 'impair-session', session: 's 1' })
    expect(route('POST', '/_lifeline/api/sessions/abc/heal')).toEqual({ kind: 'heal-session', session: 'abc' })
    expect(route('GET', '/_lifeline/api/nodes/n2/impair')).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } })
    expect(route('GET', '/_lifeline/api/heal')).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } })
    expect(route('GET', '/_lifeline/api/sessions/abc/impair')).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } })
    expect(route('POST', '/_lifeline/api/sessions/abc/explode')).toMatchObject({ error: { code: 'NOT_FOUND', message: expect.stringContaining('POST sessions/:sid/{impair,heal}') } })
  })
})

interface Body {
  node: ClusterNode
  nodes: ClusterNode[]
  session: string
  faults: { nodes: Record<string, ImpairOptions>; sessions: Record<string, ImpairOptions> }
  events: { kind: string; node?: string; text: string; detail?: Record<string, unknown> }[]
  error: { code: string; message: string }
}

describe('admin API: impair and heal', () => {
  let cluster: Cluster
  let api: string
  const post = async (path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Body }> => {
    const res = await fetch(`${api}/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body }) })
    return { status: res.status, body: (await res.json()) as Body }
  }
  const get = async (path: string): Promise<Body> => (await (await fetch(`${api}/${path}`)).json()) as Body

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2 })
    api = cluster.adminUrl
  })
  // A failed test must not leave the next one impaired.
  afterEach(() => cluster?.heal())
  afterAll(() => cluster?.stop())

  it('impairs a node, shows it in GET nodes and the event log, and heals it', async () => {
    const impaired = await post('nodes/n1/impair', JSON.stringify({ latencyMs: 200, jitterMs: 50, store: { latencyMs: 5 } }))
    expect(impaired).toMatchObject({ status: 200, body: { node: { id: 'n1', impairment: { latencyMs: 200, jitterMs: 50, store: { latencyMs: 5 } } } } })
    expect((await get('nodes')).nodes.map((n) => n.impairment)).toEqual([{ latencyMs: 200, jitterMs: 50, store: { latencyMs: 5 } }, undefined])
    // The node shapes it: a round trip straight to n1 takes two delayed legs.
    const direct = await RawClient.connect(`ws://127.0.0.1:${cluster.nodes[0]?.port}`)
    const t = Date.now()
    await direct.hello({})
    expect(Date.now() - t).toBeGreaterThanOrEqual(2 * (200 - 50))
    direct.close()
    const healed = await post('nodes/n1/heal')
    expect(healed.status).toBe(200)
    expect(healed.body.node.impairment).toBeUndefined()
    const events = (await get('events')).events.filter((e) => e.kind === 'action' && e.node === 'n1')
    expect(events.map((e) => e.text)).toEqual(['impair: latency 200 ms ± 50 ms, store: latency 5 ms', 'heal'])
    expect(events[0]?.detail).toEqual({ action: 'impair', impairment: { latencyMs: 200, jitterMs: 50, store: { latencyMs: 5 } } })
  })

  it('refuses a bad body: 400 BAD_OPTION with parseImpairment’s message, BAD_REQUEST for what is not JSON or too big', async () => {
    expect(await post('nodes/n1/impair', JSON.stringify({ latencyMs: -1 }))).toEqual({
      status: 400,
      body: { error: { code: 'BAD_OPTION', message: 'latencyMs must be a number of milliseconds from 0 to 60000, got -1' } },
    })
    expect(await post('nodes/n1/impair', JSON.stringify({ latency: 5 }))).toMatchObject({ status: 400, body: { error: { code: 'BAD_OPTION', message: expect.stringContaining('unknown option "latency"') } } })
    expect(await post('nodes/n1/impair', '[1]')).toMatchObject({ status: 400, body: { error: { code: 'BAD_OPTION', message: expect.stringContaining('impairment must be an object') } } })
    expect(await post('nodes/n1/impair')).toMatchObject({ status: 400, body: { error: { code: 'BAD_OPTION', message: expect.stringContaining('the body is empty') } } })
    expect(await post('nodes/n1/impair', '{"latencyMs":')).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST', message: expect.stringContaining('not JSON') } } })
    const big = JSON.stringify({ latencyMs: 1, pad: 'x'.repeat(MAX_ADMIN_BODY_BYTES) })
    expect(await post('nodes/n1/impair', big)).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST', message: expect.stringContaining(`over ${MAX_ADMIN_BODY_BYTES} bytes`) } } })
    expect(await post('sessions/abc/impair', JSON.stringify({ store: { blackhole: true } }))).toMatchObject({ status: 400, body: { error: { code: 'BAD_OPTION', message: expect.stringContaining('no link to the store') } } })
    expect(await post('nodes/n9/impair', '{}')).toMatchObject({ status: 404, body: { error: { code: 'NODE_NOT_FOUND' } } })
    expect(await post('nodes/n1/impair', '{"blackhole":true}', { origin: 'http://evil.example' })).toMatchObject({ status: 403, body: { error: { code: 'CROSS_ORIGIN' } } })
    // None of those changed anything.
    expect(cluster.faults).toEqual({ nodes: {}, sessions: {} })
  })

  it('impairs one session, lists it, and POST heal ends every fault', async () => {
    expect(await post('sessions/some-session/impair', JSON.stringify({ latencyMs: 100 }))).toEqual({
      status: 200,
      body: { session: 'some-session', faults: { nodes: {}, sessions: { 'some-session': { latencyMs: 100 } } } },
    })
    await post('nodes/n2/impair', JSON.stringify({ blackhole: true }))
    expect(await post('heal')).toEqual({ status: 200, body: { faults: { nodes: {}, sessions: {} } } })
    const texts = (await get('events')).events.filter((e) => e.kind === 'action').map((e) => e.text)
    expect(texts.slice(-3)).toEqual(['impair session some-session: latency 100 ms', 'impair: blackhole', 'heal: every node and session'])
  })

  it('an impairment stays on its node across a restart: the new process is shaped before it is routed to', async () => {
    await cluster.impair('n2', { latencyMs: 150 })
    const restarted = await cluster.restart('n2')
    expect(restarted.impairment).toEqual({ latencyMs: 150 })
    const direct = await RawClient.connect(`ws://127.0.0.1:${restarted.port}`)
    const t = Date.now()
    await direct.hello({})
    const rtt = Date.now() - t
    direct.close()
    console.log(`[impair across restart] hello round trip to the restarted n2: ${rtt} ms (latency 150 ms each way)`)
    expect(rtt).toBeGreaterThanOrEqual(300)
  })

  it('cluster.impair refuses what a node cannot do, with BAD_OPTION', async () => {
    await expect(cluster.impair('n1', { latencyMs: 70_000 })).rejects.toMatchObject({ code: 'BAD_OPTION' })
    await expect(cluster.impairSession('', { latencyMs: 1 })).rejects.toBeInstanceOf(ClusterError)
    await expect(cluster.heal('n7')).rejects.toMatchObject({ code: 'NODE_NOT_FOUND' })
    await expect(startCluster({ nodes: 0, store: 'redis://127.0.0.1:1', impair: { store: { blackhole: true } } })).rejects.toMatchObject({
      code: 'BAD_OPTION',
      message: expect.stringContaining('each node reaches Redis directly'),
    })
  })
})

const startDev = devStarter()

describe('lifeline dev --latency --jitter', () => {
  it('--help documents the fault flags with their defaults', () => {
    const out = spawnSync(process.execPath, [CLI, 'dev', '--help'], { encoding: 'utf8' }).stdout
    expect(out).toMatch(/--latency <delay>[^[]*\[0\]/)
    expect(out).toMatch(/--jitter <delay>[^[]*\[0\]/)
    expect(out).toMatch(/--bandwidth <bytes\/s>[^[]*\[unlimited\]/)
    expect(out).toContain('/_lifeline/api/nodes/<id>/impair')
  })

  it('refuses a bad delay with exit 2 and says what to write', () => {
    for (const [flag, value, says] of [
      ['--latency', 'fast', 'write e.g. 200ms, 0.2s or 200'],
      ['--jitter', '5 ms', 'is not a delay'],
      ['--latency', '90s', 'from 0 to 60000, got 90000'],
      ['--bandwidth', '0', 'is not a rate'],
    ] as const) {
      const r = spawnSync(process.execPath, [CLI, 'dev', '--port', '0', flag, value], { encoding: 'utf8', timeout: 10_000 })
      expect(r.status, `${flag} ${value}`).toBe(2)
      expect(r.stderr).toContain('lifeline: BAD_OPTION:')
      expect(r.stderr).toContain(says)
    }
  })

  it('impairs every node from the start, says so, and the admin API heals it', async () => {
    const { child, admin, lines } = await startDev(['--nodes', '2', '--latency', '200ms', '--jitter', '50'])
    expect(lines.find((l) => l.includes('faults:'))).toContain('every node impaired: latency 200 ms ± 50 ms')
    const nodes = ((await (await fetch(`${admin}/nodes`)).json()) as Body).nodes
    expect(nodes.map((n) => n.impairment)).toEqual([
      { latencyMs: 200, jitterMs: 50 },
      { latencyMs: 200, jitterMs: 50 },
    ])
    const events = ((await (await fetch(`${admin}/events`)).json()) as Body).events
    expect(events.find((e) => e.kind === 'action')?.text).toBe('impair every node: latency 200 ms ± 50 ms')
    const healed = (await (await fetch(`${admin}/heal`, { method: 'POST' })).json()) as Body
    expect(healed.faults).toEqual({ nodes: {}, sessions: {} })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGINT')
    await exited
  })
})
