/**
 * Spec 5: the browser goes offline with sends queued; back online it reconnects at once and everything
 * arrives once.
 *
 * Chromium's `context.setOffline(true)` alone does not close an already-open WebSocket: it holds the socket's
 * frames and delivers them when back online (measured, Chromium 156; see support/cut-proxy.ts). A laptop that
 * really dropped off Wi-Fi loses that socket, so this spec also cuts it: the page talks to the cluster through
 * a proxy that resets the connection and refuses new ones until the network is back.
 *
 * The page runs with a huge backoff (first retry uniform in [0, 60 s]), so only the `online` event can bring
 * it back within the 2 s allowed.
 */
import { test, expect } from '../support/fixtures.js'
import { assertStreamsExactlyOnce } from '../support/streams.js'
import { ids } from '../support/tally.js'

const N = 30
const BACKOFF_MIN_MS = 60_000
const AT_ONCE_MS = 2_000

test('offline with sends queued: back online, reconnects at once, everything arrives once', async ({ context, openApp, startPeer, startProxy, topic }) => {
  const peer = await startPeer([topic])
  const proxy = await startProxy()
  const app = await openApp({ ws: proxy.url, topics: [topic], backoffMin: BACKOFF_MIN_MS, backoffMax: 2 * BACKOFF_MIN_MS })
  const session = await app.sessionId()
  await app.issue({ kind: 'publish', topic, prefix: 'before', count: 5 })
  await expect.poll(() => app.confirmed()).toBe(5)

  await context.setOffline(true)
  proxy.cut()
  await expect.poll(() => app.state()).not.toBe('open')

  // Queued while offline: nothing can be acknowledged, so every one of them is pending.
  await app.issue({ kind: 'publish', topic, prefix: 'queued', count: N })
  await app.issue({ kind: 'send', prefix: 'echo', count: N })
  await expect.poll(() => app.pending()).toBe(2 * N)
  // Meanwhile the world goes on: the peer publishes while the page is away.
  await peer.publish(topic, 'down', N, 0)

  proxy.restore()
  await context.setOffline(false)
  await expect(app.page.locator('#state')).toHaveAttribute('data-state', 'open')
  // Both timestamps are the page's own clock: from the browser's `online` event to the next `open`.
  const online = (await app.events('network')).filter((e) => e.to === 'online').at(-1)
  const onlineAt = online ? Number(online.at) : Number.NaN
  const back = (await app.stateChanges()).find((c) => c.to === 'open' && c.at >= onlineAt)
  const reconnectMs = back ? back.at - onlineAt : Number.POSITIVE_INFINITY

  const up = [...ids('before', 5), ...ids('queued', N)]
  const echo = ids('echo', N)
  const toPage = [...up, ...ids('down', N)]
  await assertStreamsExactlyOnce('offline', { app, peer, topic }, { up, toPage, echo }, {
    done: async () => (await app.pending()) === 0,
    timeoutMs: 20_000,
    extra: `queued=${2 * N} reconnectMs=${reconnectMs} (backoff window ${BACKOFF_MIN_MS} ms)`,
  })
  expect(reconnectMs, 'reconnected at once on `online`, not after a backoff wait').toBeLessThan(AT_ONCE_MS)
  expect(await app.sessionId()).toBe(session)
})
