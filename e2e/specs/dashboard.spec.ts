/**
 * The dashboard (packages/devserver/src/admin/dashboard), driven the way a developer uses it during a failover:
 * only through its buttons, by their accessible names (`<action> <node id>`), and read only through what the
 * page shows. Kill is pressed on n1 20 times in a row; the supervisor brings the node back after each kill
 * (`restart: true`) and the next press waits for the page to show it up again, with a new process. Every press
 * must take effect: the event log API has to record 20 kills of n1, 20 SIGKILL exits and 20 new processes.
 * Before that, freeze/thaw and impair/heal check that each button is enabled exactly when it applies. The page
 * must log no error. Its screenshot goes to the test's output folder; with UPDATE_SCREENSHOT=1 to
 * docs/dashboard.png, the one the root README shows (so a plain test run leaves the tree unchanged).
 */
import { fileURLToPath } from 'node:url'
import type { Locator } from '@playwright/test'
import { test, expect } from '../support/fixtures.js'

const KILLS = 20
/** Node SDK clients connected throughout, so the charts and the reconnect histogram have something to show. */
const PEERS = 24
/** One publish every this many ms, from the peers in turn: messages in and out per second on the charts. */
const PUBLISH_EVERY_MS = 100
const NODE_ACTIONS = ['kill', 'drain', 'freeze', 'thaw', 'restart', 'remove', 'impair', 'blackhole', 'cut store', 'heal']
const SCREENSHOT = fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url))

interface LoggedEvent {
  seq: number
  kind: string
  node?: string
  text: string
  detail?: { action?: string; to?: string; pid?: number; exit?: { signal?: string | null } }
}

// The supervisor restarts a killed node by itself: the 20 presses below are 20 kills, with no restart between.
test.use({ clusterOptions: { restart: true } })

test('kill pressed 20 times across restarts: every press lands; buttons apply only where they should; chart and event log move', async ({ page, cluster, startPeer, topic }) => {
  test.setTimeout(180_000)
  const base = cluster.adminUrl.replace(/\/_lifeline\/api$/, '')
  const events = async (after: number): Promise<LoggedEvent[]> => ((await (await fetch(`${base}/_lifeline/api/events?after=${after}`)).json()) as { events: LoggedEvent[] }).events
  const problems: string[] = []
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`)
  })

  const peers = await Promise.all(Array.from({ length: PEERS }, () => startPeer([topic])))
  let publishing = true
  const published: Promise<void>[] = []
  const load = (async () => {
    for (let i = 0; publishing; i += 1) {
      published.push(peers[i % PEERS]!.publish(topic, `load${i}`, 1, 0))
      await new Promise((resolve) => setTimeout(resolve, PUBLISH_EVERY_MS))
    }
  })()

  try {
    // 1,300 px: three node cards fill a row, and the screenshot stays small.
    await page.setViewportSize({ width: 1300, height: 1000 })
    await page.goto(`${base}/`)
    const button = (name: string): Locator => page.getByRole('button', { name, exact: true })
    const card = (id: string): Locator => page.getByRole('article', { name: `node ${id}`, exact: true })
    for (const id of ['n1', 'n2', 'n3']) await expect(card(id)).toHaveAttribute('data-status', 'up')

    // Every button is there once by its accessible name, and says in one line what it does.
    for (const id of ['n1', 'n2', 'n3']) {
      for (const action of NODE_ACTIONS) {
        await expect(button(`${action} ${id}`)).toHaveCount(1)
        await expect(button(`${action} ${id}`)).toHaveAttribute('title', /\w+ \w+ \w+/)
      }
    }
    // An up node with no network fault: everything but thaw and heal applies.
    for (const action of NODE_ACTIONS) {
      if (action === 'thaw' || action === 'heal') await expect(button(`${action} n1`)).toBeDisabled()
      else await expect(button(`${action} n1`)).toBeEnabled()
    }

    // Frozen: thaw applies, freeze and the network faults do not; kill still does.
    await button('freeze n2').click()
    await expect(card('n2')).toHaveAttribute('data-status', 'frozen')
    await expect(button('thaw n2')).toBeEnabled()
    for (const action of ['freeze', 'impair', 'blackhole', 'cut store', 'heal']) await expect(button(`${action} n2`)).toBeDisabled()
    await expect(button('kill n2')).toBeEnabled()
    await button('thaw n2').click()
    await expect(button('freeze n2')).toBeEnabled({ timeout: 15_000 })
    await expect(button('thaw n2')).toBeDisabled()

    // The n1 card's chart, and the event log, as they are before the kills.
    const chart = card('n1').getByRole('img')
    await expect(chart, 'n1 has clients: the connection chart shows them').toHaveAttribute('aria-label', /now [1-9]/)
    const chartBefore = await chart.screenshot()
    const rows = page.locator('#events tr')
    const rowsBefore = await rows.count()
    const killRows = page.locator('#events tr[data-kind="action"][data-node="n1"]', { hasText: 'kill SIGKILL' })
    const killRowsBefore = await killRows.count()
    const seqBefore = (await events(0)).at(-1)?.seq ?? 0

    const pidsKilled = new Set<string>()
    for (let press = 1; press <= KILLS; press += 1) {
      // Back, as the page shows it: up, with a process, and kill offered again.
      await expect(card('n1'), `before press ${press}`).toHaveAttribute('data-status', 'up', { timeout: 20_000 })
      await expect(button('kill n1')).toBeEnabled()
      const pid = /pid (\d+)/.exec((await card('n1').locator('.meta').textContent()) ?? '')?.[1]
      expect(pid, `press ${press}: the card shows the running process`).toBeTruthy()
      pidsKilled.add(pid!)
      await button('kill n1').click()
      // The press took effect: that process is gone from the card (a dead node shows no pid, its old one least of all).
      await expect(card('n1').locator('.meta'), `press ${press}`).not.toContainText(new RegExp(`pid ${pid}\\b`), { timeout: 10_000 })
    }
    await expect(card('n1')).toHaveAttribute('data-status', 'up', { timeout: 20_000 })

    // Every press was a kill of its own: recorded, a SIGKILL exit, and a new process each time.
    const log = (await events(seqBefore)).filter((e) => e.node === 'n1')
    const kills = log.filter((e) => e.kind === 'action' && e.detail?.action === 'kill')
    const exits = log.filter((e) => e.kind === 'node' && e.detail?.to === 'exited' && e.detail.exit?.signal === 'SIGKILL')
    const started = new Set(log.filter((e) => e.kind === 'node' && e.detail?.to === 'starting').map((e) => e.detail?.pid))
    console.log(`[e2e] dashboard | presses=${KILLS} kills recorded=${kills.length} SIGKILL exits=${exits.length} new processes=${started.size} distinct pids killed=${pidsKilled.size}`)
    expect(kills).toHaveLength(KILLS)
    expect(exits).toHaveLength(KILLS)
    expect(started.size).toBe(KILLS)
    expect(pidsKilled.size).toBe(KILLS)

    // The event log moved: the page shows each kill, newest first.
    await expect(killRows).toHaveCount(killRowsBefore + KILLS)
    expect(await rows.count()).toBeGreaterThan(rowsBefore + KILLS)
    await expect(rows.first()).not.toHaveAttribute('data-kind', 'gap')
    // The charts moved: n1's connections were drawn anew, clients resumed elsewhere, the last fault has times.
    await expect.poll(async () => (await chart.screenshot()).equals(chartBefore)).toBe(false)
    await expect(page.locator('#chart-resumes')).toHaveAttribute('aria-label', /at most [1-9]/)
    await expect(page.locator('#fault-summary')).toContainText(/resumed of \d+ connections/)
    await expect(page.locator('#chart-reconnects')).toHaveAttribute('aria-label', /\d+ within/)

    // A network fault, as the card shows it, and heal offered only while there is one.
    await expect(button('heal n3')).toBeDisabled()
    await button('impair n3').click()
    await expect(card('n3').locator('.impairment')).toHaveText('network: 300 ± 100 ms')
    await expect(button('heal n3')).toBeEnabled()
    await expect(page.locator('#error')).toHaveText('')
    // The picture for the README once every panel shows the end of the run: the event log has the impair, and
    // the page's clock (set by each poll) has moved twice since, so the charts and rates are of after it too.
    await expect(rows.first()).toContainText('impair')
    const clock = page.locator('#live-text')
    for (let poll = 0; poll < 2; poll++) {
      const shown = await clock.textContent()
      await expect.poll(() => clock.textContent()).not.toBe(shown)
    }
    await page.screenshot({ path: process.env.UPDATE_SCREENSHOT === '1' ? SCREENSHOT : test.info().outputPath('dashboard.png'), fullPage: true })
    await button('heal n3').click()
    await expect(card('n3').locator('.impairment')).toHaveText('network: not impaired')
    await expect(button('heal n3')).toBeDisabled()

    expect(problems, 'the page logged no error').toEqual([])
  } finally {
    publishing = false
    await load
  }
  // Every publish resolved, through 20 kills of a node some of the peers were on.
  await Promise.all(published)
})
