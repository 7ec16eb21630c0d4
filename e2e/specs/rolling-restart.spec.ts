/**
 * Spec 7: a rolling restart of every node (a deploy across the cluster) while messages flow both ways.
 * Each node is restarted in turn and must be back before the next one goes; the page follows its session
 * from node to node and nothing is lost, duplicated or reordered.
 */
import { test, expect, nodeOfPage } from '../support/fixtures.js'
import { assertStreamsExactlyOnce } from '../support/streams.js'
import { ids } from '../support/tally.js'

const N = 40 // per stream per restart
const INTERVAL_MS = 20

test('rolling restart of every node under load: nothing lost', async ({ cluster, openApp, startPeer, topic }) => {
  const peer = await startPeer([topic])
  const app = await openApp({ topics: [topic] })
  const session = await app.sessionId()
  const nodes = cluster.nodes.map((n) => n.id)
  const path: string[] = [await nodeOfPage(app.page, cluster)]
  const up: string[] = []
  const echo: string[] = []
  const down: string[] = []

  for (const [k, id] of nodes.entries()) {
    await app.issue({ kind: 'publish', topic, prefix: `up${k}`, count: N, intervalMs: INTERVAL_MS })
    await app.issue({ kind: 'send', prefix: `echo${k}`, count: N, intervalMs: INTERVAL_MS })
    const flowing = peer.publish(topic, `down${k}`, N, INTERVAL_MS)
    up.push(...ids(`up${k}`, N))
    echo.push(...ids(`echo${k}`, N))
    down.push(...ids(`down${k}`, N))
    await cluster.restart(id)
    await expect.poll(() => cluster.nodes.filter((n) => n.status === 'up').length, { timeout: 15_000 }).toBe(nodes.length)
    await flowing
    path.push(await nodeOfPage(app.page, cluster))
  }

  const toPage = [...up, ...down]
  await assertStreamsExactlyOnce('rolling-restart', { app, peer, topic }, { up, toPage, echo }, {
    done: async () => (await app.pending()) === 0,
    timeoutMs: 30_000,
    extra: `restarted=${nodes.join(',')} pageNodes=${path.join('→')}`,
  })
  expect(await app.sessionId()).toBe(session)
  expect(await app.confirmed()).toBe(2 * N * nodes.length)
})
