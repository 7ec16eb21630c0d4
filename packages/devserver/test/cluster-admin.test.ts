/** The admin HTTP API on the balancer port, against a real 2-node cluster; and its routing as a pure function. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, type Cluster, type ClusterNode } from '../src/cluster/index.js'
import http from 'node:http'
import { routeAdmin } from '../src/admin/routes.js'
import { createAdminHandler } from '../src/admin/api.js'
import { RawClient } from './fixtures/raw-client.js'
import { processAlive } from './support/processes.js'

describe('admin routes', () => {
  const route = (method: string, path: string) => routeAdmin(method, new URL(path, 'http://x'))
  it('maps every route, and names what is wrong otherwise', () => {
    expect(route('GET', '/_lifeline/api/nodes')).toEqual({ kind: 'list' })
    expect(route('POST', '/_lifeline/api/nodes/')).toEqual({ kind: 'add' })
    expect(route('POST', '/_lifeline/api/nodes/n2/kill')).toEqual({ kind: 'kill', id: 'n2', signal: 'SIGKILL' })
    expect(route('POST', '/_lifeline/api/nodes/n2/kill?signal=sigterm')).toEqual({ kind: 'kill', id: 'n2', signal: 'SIGTERM' })
    expect(route('POST', '/_lifeline/api/nodes/n1/freeze')).toEqual({ kind: 'freeze', id: 'n1' })
    expect(route('DELETE', '/_lifeline/api/nodes/n1')).toEqual({ kind: 'remove', id: 'n1' })
    expect(route('GET', '/_lifeline/api/sessions/abc')).toEqual({ kind: 'session', session: 'abc' })
    expect(route('GET', '/_lifeline/api/nodes/n1/kill')).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } })
    expect(route('POST', '/_lifeline/api/nodes/n1/explode')).toMatchObject({ error: { code: 'NOT_FOUND' } })
    expect(route('POST', '/_lifeline/api/nodes/n1/kill?signal=SIGBOGUS')).toMatchObject({ error: { code: 'BAD_OPTION' } })
    expect(route('POST', '/_lifeline/api/nodes/%E0%A4%A/kill')).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringContaining('"%E0%A4%A"') } })
    expect(route('DELETE', '/_lifeline/api/nodes/n%201')).toEqual({ kind: 'remove', id: 'n 1' })
  })
})

/** One request with headers fetch may not set (Host); resolves with the status and the parsed JSON body. */
function callAs(port: number, method: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: AdminBody }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: (res.headers['content-type']?.includes('json') ? JSON.parse(text) : {}) as AdminBody }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Every field any admin answer may carry. */
interface AdminBody {
  nodes: ClusterNode[]
  node: ClusterNode
  removed: string
  session: string
  error: { code: string; message: string }
}

describe('admin access', () => {
  /** Runs the handler on a request from `address`; resolves with the status it answered. */
  const statusFor = (address: string, allowRemote: boolean, host = '127.0.0.1:9', configured?: string): Promise<number> =>
    new Promise((resolve) => {
      const cluster = { nodes: [] } as unknown as Cluster
      const handler = createAdminHandler(() => cluster, { allowRemote, ...(configured ? { host: configured } : {}) })
      const req = { url: '/_lifeline/api/nodes', method: 'GET', headers: { host }, socket: { remoteAddress: address } }
      const res = { writeHead: (status: number) => resolve(status), end: () => {} }
      handler(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse)
    })

  it('answers loopback clients only, unless allowed', async () => {
    expect(await statusFor('127.0.0.1', false)).toBe(200)
    expect(await statusFor('::ffff:127.0.0.1', false)).toBe(200)
    expect(await statusFor('::1', false)).toBe(200)
    expect(await statusFor('10.1.2.3', false)).toBe(403)
    expect(await statusFor('10.1.2.3', true)).toBe(200)
  })

  it('answers loopback names and the configured host in Host only, unless allowed remote', async () => {
    for (const host of ['localhost:9', 'LOCALHOST', 'app.localhost:9', 'localhost.:9', '127.0.0.1', '127.1.2.3:9', '[::1]:9']) {
      expect(await statusFor('127.0.0.1', false, host), host).toBe(200)
    }
    for (const host of ['attacker.example:9', 'localhost.attacker.example', '127.0.0.1.attacker.example', '10.1.2.3:9', '[::2]:9']) {
      expect(await statusFor('127.0.0.1', false, host), host).toBe(403)
    }
    expect(await statusFor('127.0.0.1', false, 'devbox.lan:9', 'devbox.lan')).toBe(200)
    expect(await statusFor('127.0.0.1', false, 'devbox.lan:9', '0.0.0.0')).toBe(403) // a wildcard names no host
    // adminRemote: other machines reach it by whatever name or address they have for it.
    expect(await statusFor('10.1.2.3', true, 'devbox.lan:9')).toBe(200)
  })
})

describe('admin API', () => {
  let cluster: Cluster
  let api: string
  const call = async (method: string, path: string): Promise<{ status: number; body: AdminBody }> => {
    const res = await fetch(`${api}/${path}`, { method })
    return { status: res.status, body: (await res.json()) as AdminBody }
  }

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2 })
    api = cluster.adminUrl
  })
  afterAll(() => cluster?.stop())

  it('lists nodes with status, pid, port and connections', async () => {
    const s = await RawClient.welcomed(cluster.url)
    const { status, body } = await call('GET', 'nodes')
    expect(status).toBe(200)
    expect(body.nodes).toHaveLength(2)
    expect(body.nodes[0]).toMatchObject({ id: 'n1', status: 'up', pid: expect.any(Number), port: expect.any(Number) })
    expect(body.nodes.reduce((sum, n) => sum + n.connections, 0)).toBe(1)
    expect(await call('GET', `sessions/${s.welcome.session.id}`)).toEqual({ status: 200, body: { session: s.welcome.session.id, node: s.welcome.node } })
    s.close()
  })

  it('adds, freezes, thaws, kills, restarts and removes a node', async () => {
    const added = await call('POST', 'nodes')
    expect(added).toMatchObject({ status: 201, body: { node: { id: 'n3', status: 'up' } } })
    expect((await call('POST', 'nodes/n3/freeze')).body.node.status).toBe('frozen')
    expect((await call('POST', 'nodes/n3/thaw')).status).toBe(200)
    const pid = added.body.node.pid as number
    expect((await call('POST', 'nodes/n3/kill')).body.node.status).toBe('dead')
    expect(processAlive(pid)).toBe(false)
    expect((await call('POST', 'nodes/n3/drain')).body.error.code).toBe('NODE_NOT_RUNNING')
    expect((await call('POST', 'nodes/n3/restart')).body.node).toMatchObject({ id: 'n3', status: 'up' })
    expect(await call('DELETE', 'nodes/n3')).toEqual({ status: 200, body: { removed: 'n3' } })
    expect((await call('GET', 'nodes')).body.nodes.map((n) => n.id)).toEqual(['n1', 'n2'])
  })

  it('answers JSON errors with stable codes', async () => {
    expect(await call('POST', 'nodes/n9/kill')).toMatchObject({ status: 404, body: { error: { code: 'NODE_NOT_FOUND' } } })
    expect(await call('GET', 'sessions/nobody')).toMatchObject({ status: 404, body: { error: { code: 'SESSION_NOT_FOUND' } } })
    expect(await call('PUT', 'nodes')).toMatchObject({ status: 405, body: { error: { code: 'METHOD_NOT_ALLOWED' } } })
    const other = await fetch(cluster.adminUrl.replace('/_lifeline/api', '/elsewhere'))
    expect(other.status).toBe(404)
  })

  it('refuses state-changing requests from another origin (a forged cross-site POST), not the dashboard\'s own', async () => {
    const forged = await fetch(`${api}/nodes/n1/freeze`, { method: 'POST', headers: { origin: 'http://evil.example' } })
    expect(forged.status).toBe(403)
    expect(await forged.json()).toMatchObject({ error: { code: 'CROSS_ORIGIN' } })
    expect((await call('GET', 'nodes')).body.nodes.find((n) => n.id === 'n1')?.status).toBe('up')
    const own = new URL(api).origin
    const same = await fetch(`${api}/nodes/n1/thaw`, { method: 'POST', headers: { origin: own } })
    expect(same.status).toBe(200)
  })

  it('refuses a DNS-rebinding request (Host and Origin both the attacker\'s name), and still answers loopback names', async () => {
    const port = Number(new URL(api).port)
    const attacker = `attacker.example:${port}`
    const pid = cluster.nodes.find((n) => n.id === 'n1')?.pid
    const rebound = { host: attacker, origin: `http://${attacker}` }
    for (const [method, path] of [['POST', 'nodes/n1/kill'], ['POST', 'nodes'], ['GET', 'nodes']] as const) {
      expect(await callAs(port, method, `/_lifeline/api/${path}`, rebound), `${method} ${path}`).toMatchObject({ status: 403, body: { error: { code: 'HOST_NOT_ALLOWED' } } })
    }
    expect((await callAs(port, 'GET', '/', rebound)).status).toBe(403) // the dashboard page too
    expect(processAlive(pid)).toBe(true)
    expect((await call('GET', 'nodes')).body.nodes.map((n) => `${n.id} ${n.status}`)).toEqual(['n1 up', 'n2 up'])

    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      expect((await callAs(port, 'GET', '/_lifeline/api/nodes', { host })).status, host).toBe(200)
      expect((await callAs(port, 'POST', '/_lifeline/api/nodes/n1/thaw', { host, origin: `http://${host}` })).status, host).toBe(200)
    }
  })

  it('serves the dashboard, a page over the same API, on /', async () => {
    const res = await fetch(cluster.adminUrl.replace('/_lifeline/api', '/'))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/html')
    expect(await res.text()).toContain('/_lifeline/api/nodes')
  })
})
