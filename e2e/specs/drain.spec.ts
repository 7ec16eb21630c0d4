/**
 * Spec 2: drain the page's node (a deploy: SIGTERM, close 1012). The page must reconnect at once, not after
 * a backoff wait. The page runs with a huge backoff (first retry uniform in [0, 60 s]), so a client that
 * treated 1012 like any other close would almost surely (≈97 %) take longer than the 2 s allowed here.
 */
import { test, expect, nodeOfPage } from '../support/fixtures.js'
import { assertExactlyOnce, ids, missing, tally, until } from '../support/tally.js'

const N = 60
const INTERVAL_MS = 20
const BACKOFF_MIN_MS = 60_000
const AT_ONCE_MS = 2_000

test('drain of the page’s node: reconnects at once (no backoff), nothing lost', async ({ cluster, openApp, startPeer, topic }) => {
  const peer = await startPeer([topic])
  const app = await openApp({ topics: [topic], backoffMin: BACKOFF_MIN_MS, backoffMax: 2 * BACKOFF_MIN_MS })
  const session = await app.sessionId()
  const victim = await nodeOfPage(app.page, cluster)

  await app.issue({ kind: 'publish', topic, prefix: 'up', count: N, intervalMs: INTERVAL_MS })
  const down = peer.publish(topic, 'down', N, INTERVAL_MS)
  await expect.poll(async () => (await app.messages()).length).toBeGreaterThanOrEqual(15)
  const changesBefore = (await app.stateChanges()).length
  await cluster.drain(victim)
  await expect.poll(() => nodeOfPage(app.page, cluster), { timeout: 10_000 }).not.toBe(victim)

  const outageMs = await app.outageMs(changesBefore)

  await down
  const up = ids('up', N)
  const toPage = [...up, ...ids('down', N)]
  await until(async () => (await app.confirmed()) === N && missing(toPage, await app.messages()).length === 0 && missing(up, peer.seen).length === 0, 20_000)

  assertExactlyOnce(
    'drain',
    {
      'page→topic (peer saw)': tally(up, peer.seen.filter((s) => s.topic === topic)),
      'topic→page': tally(toPage, (await app.messages()).filter((s) => s.topic === topic)),
    },
    `drained=${victim} outageMs=${outageMs} (backoff window ${BACKOFF_MIN_MS} ms) ${await app.incidents()}`,
  )
  expect(outageMs, 'reconnected at once after 1012, not after a backoff wait').toBeLessThan(AT_ONCE_MS)
  expect(await app.sessionId()).toBe(session)
})
