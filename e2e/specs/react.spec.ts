/**
 * Spec: the React page (e2e/app/react.tsx: @lifeline/react's provider and hooks, in StrictMode) keeps its feed
 * through a SIGKILL of its node and a reload. The feed subscribes from 'earliest', so the reloaded page shows the
 * topic's whole retained log again, each message once and in order; what the page published while its node
 * died and while it reloaded (sessionStorage) lands exactly once too, as a Node peer on the topic counts.
 */
import { test, expect, nodeOfPage } from '../support/fixtures.js'
import { ReactApp } from '../support/react-app.js'
import { assertExactlyOnce, ids, missing, tally, until } from '../support/tally.js'

const PRE = 30 // in the log before the page opens: only a replay from 'earliest' shows them
const UP = 60 // published by the page, 20 ms apart
const DOWN = 150 // published by the peer, 20 ms apart: still flowing when the page reloads
const INTERVAL_MS = 20

test('the React page keeps its feed through a SIGKILL of its node and a reload: every message once, in order', async ({ page, cluster, startPeer, topic }) => {
  const peer = await startPeer([topic])
  await peer.publish(topic, 'pre', PRE, 0)
  const app = await ReactApp.open(page, { ws: cluster.url, topic, persist: 'session' })
  await expect.poll(async () => missing(ids('pre', PRE), await app.feed()).length).toBe(0)
  expect(await app.sockets(), 'StrictMode mounted the provider twice; it made one WebSocket').toBe(1)
  const session = await app.sessionId()
  const victim = await nodeOfPage(page, cluster)

  await app.issue('up', UP, INTERVAL_MS)
  const down = peer.publish(topic, 'down', DOWN, INTERVAL_MS)
  await expect.poll(async () => (await app.feed()).length).toBeGreaterThanOrEqual(PRE + 20)
  await cluster.kill(victim)
  await expect.poll(() => nodeOfPage(page, cluster), { timeout: 15_000 }).not.toBe(victim)
  const resumedOn = await nodeOfPage(page, cluster)
  await app.issued('up')

  // The feed through the kill, as the page showed it just before the reload: nothing twice, nothing reordered,
  // and no hole (offsets are dense, and the feed started at the first one), so nothing was lost at the kill.
  const before = await app.feed()
  const shownBefore = before.map((s) => s.id)
  expect(before.map((s) => s.offset), 'the feed before the reload: offsets 1, 2, 3 … with no hole').toEqual(before.map((_, i) => i + 1))
  // Read the outbox and reload in one task of the page, so nothing slips in between.
  const outboxAtReload = await page.evaluate(() => {
    const n = Number(document.querySelector('#outbox')?.textContent)
    location.reload()
    return n
  })
  await page.waitForURL(/persist=session/)
  await app.ready(20_000)
  expect(await app.sessionId(), 'the reloaded page resumed its session').toBe(session)

  await down
  const up = ids('up', UP)
  const toPage = [...ids('pre', PRE), ...up, ...ids('down', DOWN)]
  await until(async () => {
    const feed = await app.feed()
    return (await app.outbox()) === 0 && missing(toPage, feed).length === 0 && missing(up, peer.seen).length === 0
  }, 30_000)

  const after = await app.feed()
  assertExactlyOnce(
    'react',
    {
      'feed through the kill (before reload)': tally(shownBefore, before),
      'feed after the reload (whole log)': tally(toPage, after.filter((s) => s.topic === topic)),
      'page→topic (peer saw)': tally(up, peer.seen.filter((s) => s.topic === topic)),
    },
    `killed=${victim} resumedOn=${resumedOn} shownBeforeReload=${before.length} outboxAtReload=${outboxAtReload} socketsAfterReload=${await app.sockets()}`,
  )
  expect(await app.events('gap')).toEqual([])
  expect(await app.events('failed')).toEqual([])
})
