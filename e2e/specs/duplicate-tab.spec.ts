/**
 * Spec: a duplicated tab. Two pages restored from the same persisted state (sessionStorage copied, as the
 * browser's "Duplicate tab" does) both publish at once. One keeps the session; the other is told (a `reset`
 * and SESSION_TAKEN) and goes on in a new one. Every publish whose promise resolved is applied exactly once:
 * counted at a Node peer on the topic.
 */
import { test, expect } from '../support/fixtures.js'
import { ids, tally } from '../support/tally.js'

const N = 60
const INTERVAL_MS = 15

test('two pages restored from one persisted state: one keeps the session, every resolved publish applied once', async ({ browser, openApp, startPeer, topic }) => {
  const peer = await startPeer([topic])
  const first = await openApp({ topics: [topic], persist: 'session' })
  const session = await first.sessionId()
  // The copy: a second tab whose sessionStorage starts as the first one's.
  const stored = await first.page.evaluate(() => Object.fromEntries(Object.keys(sessionStorage).map((k) => [k, sessionStorage.getItem(k)])))
  const context = await browser.newContext()
  const tab = await context.newPage()
  await tab.addInitScript((items: Record<string, string | null>) => {
    if (sessionStorage.length > 0) return // a reload of this tab keeps its own state
    for (const [k, v] of Object.entries(items)) if (v !== null) sessionStorage.setItem(k, v)
  }, stored)
  await first.issue({ kind: 'publish', topic, prefix: 'a', count: N, intervalMs: INTERVAL_MS })
  const second = await openApp({ topics: [topic], persist: 'session' }, tab)
  await second.issue({ kind: 'publish', topic, prefix: 'b', count: N, intervalMs: INTERVAL_MS })
  await Promise.all([first.issued('a'), second.issued('b')])
  await expect.poll(async () => (await first.pending()) + (await second.pending()), { timeout: 20_000 }).toBe(0)

  const rejected = new Set([...(await first.rejections()), ...(await second.rejections())].map((r) => r.id))
  const resolved = [...ids('a', N), ...ids('b', N)].filter((id) => !rejected.has(id))
  // Resolved ones must arrive at the peer exactly once; rejected ones may arrive at most once (the copy delivers them).
  await expect.poll(() => resolved.filter((id) => !peer.seen.some((s) => s.id === id)).length, { timeout: 20_000 }).toBe(0)
  const counts = tally(resolved, peer.seen.filter((s) => s.topic === topic))
  const appliedTwice = [...ids('a', N), ...ids('b', N)].filter((id) => peer.seen.filter((s) => s.id === id).length > 1)
  const resets = [...(await first.events('reset')), ...(await second.events('reset'))]
  const taken = [...(await first.events('error')), ...(await second.events('error'))].filter((e) => e.code === 'SESSION_TAKEN')
  const sessions = [await first.sessionId(), await second.sessionId()]
  console.log(
    `[e2e] duplicate-tab | resolved=${resolved.length} rejected=${rejected.size} lost=${counts.lost} duplicated=${counts.duplicated} ` +
      `appliedTwice=${appliedTwice.length} resets=${resets.length} taken=${taken.length} sessions=${sessions.join(',')} (was ${session})`,
  )
  expect(counts.lost).toBe(0)
  expect(counts.duplicated).toBe(0)
  expect(appliedTwice).toEqual([])
  expect(resets).toHaveLength(1)
  expect(taken).toHaveLength(1)
  expect(sessions[0]).not.toBe(sessions[1])
  expect(sessions).toContain(session)
  await context.close()
})
