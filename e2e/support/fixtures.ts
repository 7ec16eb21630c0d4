/**
 * The specs' own fixtures, on top of the ones apps get from `@lifeline/devserver/testing` (`cluster`,
 * `nodeOfPage`): `openApp` opens the e2e page on the worker's cluster, `startPeer` a Node-side participant,
 * `topic` a topic name no other test uses (the cluster is shared by every test of a worker).
 * Everything opened here is closed after the test.
 */
import { test as lifeline } from '@lifeline/devserver/testing'
import type { Page } from '@playwright/test'
import { App, type AppQuery } from './app.js'
import { CutProxy } from './cut-proxy.js'
import { Peer } from './peer.js'

export { expect, nodeOfPage, impairPage, healPage } from '@lifeline/devserver/testing'

interface E2eFixtures {
  /** Opens the page (on `page`, or another page) against the cluster, `ws` defaulting to `cluster.url`. */
  openApp: (query?: Partial<AppQuery>, page?: Page) => Promise<App>
  startPeer: (topics: string[]) => Promise<Peer>
  startProxy: () => Promise<CutProxy>
  topic: string
}

export const test = lifeline.extend<E2eFixtures>({
  topic: async ({}, use, testInfo) => {
    await use(`e2e.${testInfo.workerIndex}.${testInfo.testId}.${testInfo.retry}`)
  },
  openApp: async ({ page, cluster }, use) => {
    await use((query = {}, on = page) => App.open(on, { ws: cluster.url, ...query }))
  },
  startPeer: async ({ cluster }, use) => {
    const peers: Peer[] = []
    await use(async (topics) => {
      const peer = await Peer.start(cluster.url, topics)
      peers.push(peer)
      return peer
    })
    await Promise.all(peers.map((p) => p.close()))
  },
  startProxy: async ({ cluster }, use) => {
    const proxies: CutProxy[] = []
    await use(async () => {
      const proxy = await CutProxy.start(cluster.url)
      proxies.push(proxy)
      return proxy
    })
    await Promise.all(proxies.map((p) => p.close()))
  },
})
