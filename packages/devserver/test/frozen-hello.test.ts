/**
 * A resume `hello` that waited in a frozen node's socket buffer must not claim the session after the thaw:
 * by then the client resumed elsewhere, and a late claim would fence its live connection (4409). The node must
 * see that the frame is older than the connection's liveness (4408), and the store that the hello's attempt is
 * older than the session's latest claim (4409): either way it claims nothing. Real node
 * processes, a real SIGSTOP/SIGCONT, raw clients that see every frame. Run `npm run build` first.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { CloseCode } from '@lifeline/protocol'
import { startCluster, type Cluster } from '../src/cluster/index.js'
import { RawClient } from './fixtures/raw-client.js'
import { requireBuilt } from './fixtures/built.js'

const TIMEOUT_MS = 1_000
let cluster: Cluster

beforeAll(async () => {
  requireBuilt()
  cluster = await startCluster({ nodes: 2, heartbeatMs: 300, timeoutMs: TIMEOUT_MS, log: () => {} })
})
afterAll(async () => {
  await cluster?.stop()
})

it('a stale resume hello read after a thaw does not claim the session; the live connection keeps it', async () => {
  const [n1, n2] = cluster.nodes
  const url = (port: number | undefined) => `ws://127.0.0.1:${port}`
  const first = await RawClient.connect(url(n2!.port))
  const welcome = await first.hello({})
  // The connection that will carry the stale hello: upgraded on n1, then n1 freezes before reading it.
  const stale = await RawClient.connect(url(n1!.port))
  await cluster.freeze(n1!.id) // resolves once the kernel says the process is stopped
  stale.sendHello({}, welcome.session.token) // attempt: after `first`'s, before `live`'s, as the SDK's would be
  // Meanwhile the client gives up on that socket and resumes on n2: this is where the session lives now.
  first.close()
  const live = await RawClient.connect(url(n2!.port))
  const resumed = await live.hello({}, welcome.session.token)
  expect(resumed).toMatchObject({ resumed: true, session: { id: welcome.session.id } })
  await new Promise((r) => setTimeout(r, TIMEOUT_MS + 500)) // n1 stays frozen past the connection's timeout
  await cluster.thaw(n1!.id)

  const closed = await Promise.race([stale.closed, new Promise<{ code: number }>((r) => setTimeout(() => r({ code: -1 }), 5_000))])
  // The live connection still holds the session: its write is applied, not fenced with 4409.
  live.send({ t: 'pub', seq: 1, topic: 'after-thaw', data: 'still mine' })
  const answer = await Promise.race([
    live.next((f) => f.t === 'ack' && f.seq === 1, 5_000).then(() => 'ack'),
    live.closed.then((c) => `closed ${c.code}`),
  ])
  console.log(`[frozen-hello] stale socket: ${closed.code} (welcome: ${stale.frames.some((f) => f.t === 'welcome')}); live write after thaw: ${answer}`)
  expect(stale.frames.some((f) => f.t === 'welcome')).toBe(false)
  // 4408 when the node sees the frame is older than the connection's liveness; 4409 when the freeze fell between
  // the upgrade and the connection's creation and the store says the hello is older than the session's claim.
  expect([CloseCode.HEARTBEAT_TIMEOUT, CloseCode.SESSION_MOVED]).toContain(closed.code)
  expect(answer).toBe('ack')
  live.close()
  stale.close()
})
