/**
 * Spec 3: freeze the page's node (SIGSTOP: its sockets stay half-open, nothing answers). The page's heartbeat
 * notices and the page resumes elsewhere. Then thaw it: the node wakes up with the page's old frames still in
 * its socket buffer, and must neither apply them twice nor deliver anything twice (its session generation is
 * stale).
 *
 * So that it is the heartbeat that notices (not the balancer closing the socket for the page), this file's
 * cluster pings every 500 ms with a 1.5 s timeout and probes health slowly: a probe gives up after 1.5 s and
 * two must fail, so the balancer cannot act within 3 s of the freeze. The page leaving `open` before that is
 * the heartbeat's doing. The resume itself still waits for the balancer to route the session elsewhere.
 */
import { test, expect, nodeOfPage } from '../support/fixtures.js'
import { assertStreamsExactlyOnce } from '../support/streams.js'
import { ids } from '../support/tally.js'

const N = 60
const INTERVAL_MS = 20
const TIMEOUT_MS = 1_500
const BALANCER_EARLIEST_MS = 3_000

test.use({ clusterOptions: { heartbeatMs: 500, timeoutMs: TIMEOUT_MS, health: { intervalMs: 2_000, timeoutMs: 1_500 } } })

test('freeze of the page’s node: resumes elsewhere; thawing adds no duplicates', async ({ cluster, openApp, startPeer, topic }) => {
  const peer = await startPeer([topic])
  const app = await openApp({ topics: [topic] })
  const session = await app.sessionId()
  const victim = await nodeOfPage(app.page, cluster)

  await app.issue({ kind: 'publish', topic, prefix: 'up', count: N, intervalMs: INTERVAL_MS })
  await app.issue({ kind: 'send', prefix: 'echo', count: N, intervalMs: INTERVAL_MS })
  const down = peer.publish(topic, 'down', N, INTERVAL_MS)
  await expect.poll(async () => (await app.messages()).length).toBeGreaterThanOrEqual(15)
  const frozenAt = await app.clock()
  await cluster.freeze(victim)
  await expect.poll(() => nodeOfPage(app.page, cluster), { timeout: 20_000 }).not.toBe(victim)
  // Page clock: when it gave up on the frozen node (heartbeat) and when it was open on another one.
  const noticedMs = Math.round((await app.leftOpenAfter(frozenAt)) - frozenAt)
  const resumeMs = Math.round((await app.openedAfter(frozenAt)) - frozenAt)
  await down
  await app.issued('echo')

  // Thaw, let the zombie run until the cluster sees it healthy again, then push one more round trip through.
  await cluster.thaw(victim)
  await expect.poll(() => cluster.nodes.find((n) => n.id === victim)?.status, { timeout: 15_000 }).toBe('up')
  await app.issue({ kind: 'publish', topic, prefix: 'after', count: 10 })

  const up = [...ids('up', N), ...ids('after', 10)]
  const echo = ids('echo', N)
  const toPage = [...up, ...ids('down', N)]
  await assertStreamsExactlyOnce('freeze', { app, peer, topic }, { up, toPage, echo }, {
    done: async () => (await app.confirmed()) === 2 * N + 10,
    timeoutMs: 20_000,
    extra: `frozen=${victim} noticedMs=${noticedMs} resumeMs=${resumeMs} (heartbeat timeout ${TIMEOUT_MS} ms)`,
  })
  expect(noticedMs, 'the heartbeat noticed the silence before the balancer could').toBeLessThan(BALANCER_EARLIEST_MS)
  expect(await app.sessionId()).toBe(session)
  expect(await app.events('reset')).toHaveLength(0)
})
