/**
 * Spec: the page's own link goes half-open while it publishes: `impairPage(page, cluster, { blackhole: true })`
 * stops every byte both ways on that page's connection only, the socket left open, which is the fault
 * `context.setOffline(true)` cannot make (Chromium keeps an open WebSocket open and delivers its frames later).
 * The page's heartbeat must notice; its reconnects meet the same dead link (the impairment follows the session),
 * so it waits, sends queued, while a Node peer on the same cluster goes on untouched. Healed, the page resumes the
 * same session and everything arrives once.
 *
 * A short heartbeat (500 ms pings, 1.5 s timeout) keeps the blackhole short; the defaults behave the same, slower.
 */
import { test, expect, healPage, impairPage } from '../support/fixtures.js'
import { assertStreamsExactlyOnce } from '../support/streams.js'
import { ids } from '../support/tally.js'

const N = 60
const INTERVAL_MS = 20
const TIMEOUT_MS = 1_500
/** The page's silence timer fires TIMEOUT_MS after the last frame; this much more for a loaded 2-core machine. */
const NOTICE_SLACK_MS = 1_500

test.use({ clusterOptions: { heartbeatMs: 500, timeoutMs: TIMEOUT_MS } })

test('a page blackholed while it publishes (impairPage): its heartbeat notices, healed it resumes, nothing lost', async ({ cluster, openApp, startPeer, topic }) => {
  const peer = await startPeer([topic])
  const app = await openApp({ topics: [topic] })
  const session = await app.sessionId()

  await app.issue({ kind: 'publish', topic, prefix: 'up', count: N, intervalMs: INTERVAL_MS })
  await app.issue({ kind: 'send', prefix: 'echo', count: N, intervalMs: INTERVAL_MS })
  await expect.poll(async () => (await app.messages()).length).toBeGreaterThanOrEqual(15)
  const at = await app.clock()
  expect(await impairPage(app.page, cluster, { blackhole: true })).toBe(session)
  const noticedMs = Math.round((await app.leftOpenAfter(at)) - at)

  // While the page is cut off, the rest of the cluster is not: the peer's publishes are all acknowledged.
  await peer.publish(topic, 'down', N, INTERVAL_MS)
  await app.issued('up')
  await app.issued('echo')
  expect(await app.state(), 'the page is still cut off: its reconnects meet the same blackhole').not.toBe('open')
  expect(await app.pending(), 'what the page sent meanwhile waits in its outbox').toBeGreaterThan(0)
  expect(cluster.faults.sessions).toEqual({ [session]: { blackhole: true } })

  const healedAt = await app.clock()
  await healPage(app.page, cluster)
  const resumeMs = Math.round((await app.openedAfter(healedAt)) - healedAt)
  expect(cluster.faults.sessions).toEqual({})

  const up = ids('up', N)
  const echo = ids('echo', N)
  const toPage = [...up, ...ids('down', N)]
  await assertStreamsExactlyOnce('blackhole', { app, peer, topic }, { up, toPage, echo }, {
    done: async () => (await app.pending()) === 0 && (await app.confirmed()) === 2 * N,
    timeoutMs: 20_000,
    extra: `noticedMs=${noticedMs} (heartbeat timeout ${TIMEOUT_MS} ms) resumeAfterHealMs=${resumeMs}`,
  })
  expect(noticedMs, 'the page’s heartbeat noticed the half-open link').toBeLessThan(TIMEOUT_MS + NOTICE_SLACK_MS)
  expect(await app.sessionId(), 'the session resumed, not replaced').toBe(session)
  expect(await app.events('reset')).toHaveLength(0)
  const actions = cluster.events.list().filter((e) => e.kind === 'action' && e.detail?.session === session)
  expect(actions.map((e) => e.text)).toEqual([`impair session ${session}: blackhole`, `heal session ${session}`])
})
