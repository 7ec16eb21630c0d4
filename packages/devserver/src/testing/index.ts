/**
 * Playwright fixtures for apps built on Lifeline: a real cluster per worker, and a way to find the node a
 * page's session is on, so an app's own tests can kill, drain or freeze exactly that node, or impair the page's
 * own connection (impairPage: latency, a half-open link) and heal it.
 *
 *   import { test, expect, nodeOfPage, impairPage, healPage } from '@lifeline/devserver/testing'
 *   test('survives a crash', async ({ page, cluster }) => {
 *     await page.goto(`/?ws=${encodeURIComponent(cluster.url)}`)
 *     await cluster.kill(await nodeOfPage(page, cluster))
 *   })
 *
 * Also the ledger (./ledger.ts): lost, duplicated, out of order, and reported versus silent, counted the way
 * Lifeline's own tests count them.
 *
 * `@playwright/test` is an optional peer dependency: only this entry point needs it. See README.md here.
 */
import { test as base, expect } from '@playwright/test'
import type { Page } from '@playwright/test'
import { startCluster } from '../index.js'
import type { Cluster, ClusterOptions } from '../cluster/types.js'
import { healCluster } from './heal.js'
import type { ImpairOptions } from '../faults/options.js'

export type { Cluster, ClusterOptions, ClusterNode, ClusterFaults } from '../cluster/types.js'
export type { ImpairOptions, StoreImpairment } from '../faults/options.js'

export interface LifelineWorkerFixtures {
  /** Options for the worker's cluster (`test.use({ clusterOptions: … })`). Default `{}`: startCluster's own defaults (3 nodes); `port` is always 0. */
  clusterOptions: ClusterOptions
  /** One cluster per worker, started on free ports and stopped when the worker ends. Healed after each test. */
  cluster: Cluster
}

export interface LifelineTestFixtures {
  /**
   * After each test: heals impaired pages and nodes (back to `clusterOptions.impair`, if given), thaws frozen
   * nodes and replaces killed, drained or removed ones, so the next test starts with as many healthy nodes as
   * this one did. Automatic; override with `[async ({}, use) => use(), { auto: true }]` to keep a broken cluster
   * across tests.
   */
  healCluster: void
}

export const test = base.extend<LifelineTestFixtures, LifelineWorkerFixtures>({
  clusterOptions: [{}, { scope: 'worker', option: true }],
  cluster: [
    async ({ clusterOptions }, use) => {
      const cluster = await startCluster({ ...clusterOptions, port: 0 })
      try {
        await use(cluster)
      } finally {
        await cluster.stop()
      }
    },
    // Starting node processes takes a few seconds on a busy 2-core machine; bounded so a hang fails loudly.
    { scope: 'worker', timeout: 60_000 },
  ],
  healCluster: [
    async ({ cluster, clusterOptions }, use) => {
      const size = cluster.nodes.length
      await use()
      await healCluster(cluster, size, clusterOptions.impair)
    },
    { auto: true },
  ],
})

export { expect }

// The ledger needs no Playwright: `@lifeline/devserver/testing/ledger` imports it alone (vitest, node:test).
export * from './ledger.js'

/** Where `nodeOfPage` reads a page's session id by default: `<html data-lifeline-session="…">` (any element works). */
export const SESSION_ATTRIBUTE = 'data-lifeline-session'

export interface NodeOfPageOptions {
  /** How to read the page's session id; default: the `data-lifeline-session` attribute. */
  sessionId?: (page: Page) => Promise<string | null | undefined>
  /** How long to wait for the page to have a session on a live node. Default 10 s: a resume after a crash. */
  timeout?: number
}

/**
 * The id of the node serving `page`'s session now. Waits (up to `timeout`) until the page has a session and
 * the cluster has it on a node, so it can be called right after `page.goto()` or a failover.
 *
 * The page must expose its session id: set `data-lifeline-session` to `client.sessionId` on any element
 * (e.g. `document.documentElement.dataset.lifelineSession = client.sessionId` in a `state` listener),
 * or pass `sessionId` to read it from wherever your app keeps it.
 */
export async function nodeOfPage(page: Page, cluster: Cluster, options: NodeOfPageOptions = {}): Promise<string> {
  const readSession = options.sessionId ?? readSessionAttribute
  let node: string | undefined
  await expect
    .poll(
      async () => {
        const session = await readSession(page)
        node = session ? cluster.nodeOf(session) : undefined
        return node
      },
      { message: `page ${page.url()} has a session on a live node`, timeout: options.timeout ?? 10_000 },
    )
    .toBeTruthy()
  return node as string
}

export interface PageSessionOptions {
  /** How to read the page's session id; default: the `data-lifeline-session` attribute. */
  sessionId?: (page: Page) => Promise<string | null | undefined>
  /** How long to wait for the page to have a session. Default 10 s. */
  timeout?: number
}

/** The session each page was impaired for: healPage heals that one, even if the page has another by then (a reset). */
const impairedSessions = new WeakMap<Page, string>()

/**
 * Impair `page`'s own connection, and only it: latency, jitter, bandwidth or a blackhole (bytes stop both ways,
 * the socket stays open: the half-open link `context.setOffline` cannot make), on whichever node it is or
 * resumes on, until healPage. Other pages and clients on the same node are untouched. Waits (up to `timeout`)
 * for the page to have a session, as nodeOfPage does, and resolves once the cluster shapes it; returns the
 * session id. Options as `cluster.impair` takes them, without `store` (a page has no store link).
 *
 *   await impairPage(page, cluster, { blackhole: true })   // the page's heartbeat notices in seconds
 *   await healPage(page, cluster)                          // what was held flows; the page resumes
 */
export async function impairPage(page: Page, cluster: Cluster, options: ImpairOptions, how: PageSessionOptions = {}): Promise<string> {
  const session = await sessionOfPage(page, how)
  await cluster.impairSession(session, options)
  impairedSessions.set(page, session)
  return session
}

/**
 * End what impairPage did to `page`: its connection flows again, what was held first, in order. A page never
 * impaired is healed by its current session (a no-op if that is not impaired). The healCluster fixture heals
 * every page after each test anyway.
 */
export async function healPage(page: Page, cluster: Cluster, how: PageSessionOptions = {}): Promise<void> {
  const session = impairedSessions.get(page) ?? (await sessionOfPage(page, how))
  impairedSessions.delete(page)
  await cluster.healSession(session)
}

/** The page's session id, once it has one (up to `timeout`). */
async function sessionOfPage(page: Page, how: PageSessionOptions): Promise<string> {
  const readSession = how.sessionId ?? readSessionAttribute
  let session: string | null | undefined
  await expect
    .poll(async () => (session = await readSession(page)), { message: `page ${page.url()} has a session (${SESSION_ATTRIBUTE}, or options.sessionId)`, timeout: how.timeout ?? 10_000 })
    .toBeTruthy()
  return session as string
}

async function readSessionAttribute(page: Page): Promise<string | null> {
  const holder = page.locator(`[${SESSION_ATTRIBUTE}]`).first()
  if ((await holder.count()) === 0) return null
  return holder.getAttribute(SESSION_ATTRIBUTE)
}
