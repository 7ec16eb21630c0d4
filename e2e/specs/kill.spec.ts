/**
 * Spec 1: SIGKILL the node the page is on while messages flow both ways; the page resumes on another node.
 *
 * Written exactly as an app's own test would be: `test`, `expect` and `nodeOfPage` come from
 * `@lifeline/devserver/testing`, the cluster is the worker's `cluster` fixture, and the page is driven through
 * its own DOM. (The page object and the counting helpers are this repo's; an app would have its own.)
 */
import { test, expect, nodeOfPage } from '@lifeline/devserver/testing'
import { App, appUrl } from '../support/app.js'
import { Peer } from '../support/peer.js'
import { assertStreamsExactlyOnce } from '../support/streams.js'
import { ids } from '../support/tally.js'

const N = 80 // per stream; at 20 ms apart each stream lasts ~1.6 s, so the kill lands mid-flow
const INTERVAL_MS = 20

test('SIGKILL of the page’s node mid-stream: resumes on another node, nothing lost', async ({ page, cluster }) => {
  const topic = `kill.${test.info().testId}`
  const peer = await Peer.start(cluster.url, [topic])
  try {
    await page.goto(appUrl({ ws: cluster.url, topics: [topic] }))
    const app = new App(page)
    await app.ready()
    const session = await app.sessionId()
    const victim = await nodeOfPage(page, cluster)

    // Up: the page publishes; down: the peer publishes; round trip: the page's sends echo into its inbox.
    await app.issue({ kind: 'publish', topic, prefix: 'up', count: N, intervalMs: INTERVAL_MS })
    await app.issue({ kind: 'send', prefix: 'echo', count: N, intervalMs: INTERVAL_MS })
    const down = peer.publish(topic, 'down', N, INTERVAL_MS)

    await expect.poll(async () => (await app.messages()).length).toBeGreaterThanOrEqual(20)
    const changesBefore = (await app.stateChanges()).length
    await cluster.kill(victim)
    await expect.poll(() => nodeOfPage(page, cluster), { timeout: 15_000 }).not.toBe(victim)
    const moved = await nodeOfPage(page, cluster)
    const outageMs = await app.outageMs(changesBefore)

    await down
    const up = ids('up', N)
    const echo = ids('echo', N)
    const toPage = [...up, ...ids('down', N)]
    await assertStreamsExactlyOnce('kill', { app, peer, topic }, { up, toPage, echo }, {
      done: async () => (await app.confirmed()) === 2 * N,
      timeoutMs: 30_000,
      extra: `killed=${victim} resumedOn=${moved} outageMs=${outageMs}`,
    })
    expect(moved).not.toBe(victim)
    expect(await app.sessionId(), 'the session resumed, not replaced').toBe(session)
    expect(await app.events('reset')).toHaveLength(0)
    await expect.poll(() => app.pending()).toBe(0)
  } finally {
    await peer.close()
  }
})
