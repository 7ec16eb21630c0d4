/**
 * An in-process stand-in for a node, for balancer tests: answers `/healthz` as told and greets every WebSocket
 * with a welcome frame (the session from `?sid=`, or a new one), as a real node does. No protocol beyond that.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'

export type HealthMode = 'ok' | 'fail' | 'hang' | 'draining'

export interface FakeNode {
  id: string
  port: number
  health: HealthMode
  /** Server-side sockets currently open. */
  sockets: Set<WebSocket>
  /** Healthz requests answered so far. */
  probes: number
  /** Answer upgrades with 503, as a draining node does (its healthz may still say ok). */
  refuseUpgrades: boolean
  /** Stops accepting (probes and upgrades are refused) but keeps open sockets, as a draining node does. */
  stopListening(): Promise<void>
  close(): Promise<void>
}

export async function startFakeNode(id: string): Promise<FakeNode> {
  let newSessions = 0
  const server = http.createServer((req, res) => {
    node.probes++
    if (req.url !== '/healthz' || node.health === 'hang') return // a frozen node never answers
    const status = node.health === 'ok' ? 200 : 503
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ status: node.health === 'draining' ? 'draining' : node.health, id, connections: node.sockets.size }))
  })
  const wss = new WebSocketServer({
    server,
    verifyClient: (_info, done) => (node.refuseUpgrades ? done(false, 503, 'draining') : done(true)),
  })
  wss.on('connection', (ws, req) => {
    node.sockets.add(ws)
    ws.on('close', () => node.sockets.delete(ws))
    const sid = new URL(req.url ?? '/', 'http://x').searchParams.get('sid') ?? `${id}-new-${++newSessions}`
    ws.send(JSON.stringify({ t: 'welcome', session: { id: sid, token: 'x' }, resumed: false, node: id, acked: 0, heartbeatMs: 2000, timeoutMs: 5000 }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const node: FakeNode = {
    id,
    port: (server.address() as AddressInfo).port,
    health: 'ok',
    sockets: new Set(),
    probes: 0,
    refuseUpgrades: false,
    async stopListening() {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
    async close() {
      for (const ws of node.sockets) ws.terminate()
      wss.close()
      server.closeAllConnections()
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return node
}
