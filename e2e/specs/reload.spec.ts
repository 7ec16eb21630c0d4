/**
 * Spec 6: reload with persistence on (sessionStorage). The session resumes and the sends the server had not
 * confirmed at reload time arrive exactly once.
 *
 * To have unconfirmed sends at reload time for sure, the page's node is frozen first: the page's publishes
 * go out on a socket nobody reads, so none can be acknowledged. After the reload the page resumes on another
 * node and resends them from storage; then the frozen node is thawed with the old copies still in its socket
 * buffer, and must not apply them a second time. The page's own heartbeat timeout (5 s) and the balancer's
 * health checks (slowed down here, see test.use) would both move the page before long; the reload comes first.
 */
import { test, expect, nodeOfPage } from '../support/fixtures.js'
import type { Seen } from '../support/tally.js'
import { assertExactlyOnce, ids, missing, tally, until } from '../support/tally.js'

const N = 20

// Slow health checks for this file's cluster (its own worker): the frozen node must stay in routing for the few
// seconds the page needs to queue its sends on it and reload, or the balancer would move the page first.
test.use({ clusterOptions: { health: { intervalMs: 2_000, timeoutMs: 1_500 } } })

test('reload with persistence: session resumes, unconfirmed sends arrive exactly once', async ({ cluster, openApp, startPeer, topic }) => {
  const peer = await startPeer([topic])
  const app = await openApp({ topics: [topic], persist: 'session' })
  const session = await app.sessionId()
  await peer.publish(topic, 'down', N, 0)
  await expect.poll(async () => missing(ids('down', N), await app.messages()).length).toBe(0)

  const victim = await nodeOfPage(app.page, cluster)
  await cluster.freeze(victim)
  await app.issue({ kind: 'publish', topic, prefix: 'up', count: N })
  await app.issue({ kind: 'send', prefix: 'echo', count: N })
  // Nothing can be acknowledged by a frozen node: all of them wait in the outbox (and in sessionStorage).
  await expect.poll(() => app.pending()).toBe(2 * N)
  // Read what the page delivered and reload in one task of the page, so nothing slips in between.
  const { before, pendingAtReload } = await app.page.evaluate(() => {
    const seen = [...document.querySelectorAll<HTMLElement>('#messages li')].map((li) => ({
      topic: li.dataset.topic ?? '',
      offset: Number(li.dataset.offset),
      id: li.dataset.id ?? '',
    }))
    const pending = Number(document.querySelector('#pending')?.textContent)
    location.reload()
    return { before: seen, pendingAtReload: pending }
  })
  await app.page.waitForURL(/persist=session/)
  await expect(app.page.locator('#state')).toHaveAttribute('data-state', 'open', { timeout: 20_000 })
  expect(await app.sessionId(), 'the reloaded page resumed its session').toBe(session)

  await peer.publish(topic, 'down2', N, 0)
  await cluster.thaw(victim)
  await expect.poll(() => cluster.nodes.find((n) => n.id === victim)?.status, { timeout: 15_000 }).toBe('up')

  const up = ids('up', N)
  const echo = ids('echo', N)
  const toPage = [...ids('down', N), ...up, ...ids('down2', N)]
  const all = async (): Promise<Seen[]> => [...before, ...(await app.messages())]
  await until(async () => {
    const seen = await all()
    return (await app.pending()) === 0 && missing(toPage, seen).length === 0 && missing(echo, seen).length === 0 && missing(up, peer.seen).length === 0
  }, 20_000)

  const seen = await all()
  assertExactlyOnce(
    'reload',
    {
      'page→topic (peer saw)': tally(up, peer.seen.filter((s) => s.topic === topic)),
      'topic→page (across reload)': tally(toPage, seen.filter((s) => s.topic === topic)),
      'send→inbox→page': tally(echo, seen.filter((s) => s.topic === '@inbox')),
    },
    `pendingAtReload=${pendingAtReload} ${await app.incidents()}`,
  )
  expect(pendingAtReload, 'sends were unconfirmed when the page reloaded').toBeGreaterThan(0)
  expect(await app.events('reset')).toHaveLength(0)
})
