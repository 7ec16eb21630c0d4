/**
 * Spec 4: two browser pages (separate contexts, so separate sessions) on different nodes chat through one
 * topic; the node of one of them is killed mid-conversation. Each page must see every line of both, once,
 * in order.
 */
import type { Browser, Page } from '@playwright/test'
import { test, expect, nodeOfPage } from '../support/fixtures.js'
import type { App } from '../support/app.js'
import { assertExactlyOnce, ids, missing, tally, until } from '../support/tally.js'

const N = 60
const INTERVAL_MS = 25

test('two pages on different nodes chat; one page’s node is killed mid-conversation', async ({ browser, cluster, openApp, topic }) => {
  const alice = await openApp({ topics: [topic] })
  const aliceNode = await nodeOfPage(alice.page, cluster)
  // New sessions go to the least-loaded node, so the second page normally lands elsewhere at once; retry a
  // few times in case other connections skewed the counts.
  let bob: App | undefined
  let bobNode = aliceNode
  for (let attempt = 0; attempt < 5 && bobNode === aliceNode; attempt += 1) {
    if (bob) await bob.page.context().close()
    bob = await openApp({ topics: [topic] }, await newPage(browser))
    bobNode = await nodeOfPage(bob.page, cluster)
  }
  if (!bob) throw new Error('unreachable')
  expect(bobNode, 'the two pages are on different nodes').not.toBe(aliceNode)
  const talk = bob
  try {
    await alice.issue({ kind: 'publish', topic, prefix: 'alice', count: N, intervalMs: INTERVAL_MS })
    await talk.issue({ kind: 'publish', topic, prefix: 'bob', count: N, intervalMs: INTERVAL_MS })
    await expect.poll(async () => (await talk.messages()).length).toBeGreaterThanOrEqual(20)
    await cluster.kill(aliceNode)
    await expect.poll(() => nodeOfPage(alice.page, cluster), { timeout: 15_000 }).not.toBe(aliceNode)

    const lines = [...ids('alice', N), ...ids('bob', N)]
    await until(async () => (await Promise.all([alice, talk].map(async (app) => missing(lines, await app.messages()).length))).every((n) => n === 0), 30_000)
    assertExactlyOnce(
      'chat',
      { 'alice saw': tally(lines, await alice.messages()), 'bob saw': tally(lines, await talk.messages()) },
      `alice=${aliceNode}→${await nodeOfPage(alice.page, cluster)} bob=${bobNode} alice:${await alice.incidents()} bob:${await talk.incidents()}`,
    )
    expect(await alice.confirmed()).toBe(N)
    expect(await talk.confirmed()).toBe(N)
  } finally {
    await talk.page.context().close()
  }
})

async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext()
  return context.newPage()
}
