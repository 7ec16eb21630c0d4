/**
 * Spec 8: the outbox limit. While the page's connection is cut (a proxy resets it and refuses new ones), the
 * app publishes more than `outbox.maxMessages`. The overflow policy must act visibly (a rejected promise with
 * its stable code) and nothing else may be lost once the line is back.
 *   reject:      the calls beyond the limit reject with OUTBOX_FULL; the first ones arrive.
 *   drop-oldest: the oldest queued calls reject with OUTBOX_DROPPED; the newest ones arrive.
 */
import { ErrorCode } from '@lifeline/protocol'
import { test, expect } from '../support/fixtures.js'
import { assertExactlyOnce, ids, missing, tally, until } from '../support/tally.js'

const LIMIT = 5
const ISSUED = 8

const issued = ids('q', ISSUED)
const cases: { overflow: 'reject' | 'drop-oldest'; code: string; kept: string[]; refused: string[] }[] = [
  { overflow: 'reject', code: ErrorCode.OUTBOX_FULL, kept: issued.slice(0, LIMIT), refused: issued.slice(LIMIT) },
  { overflow: 'drop-oldest', code: ErrorCode.OUTBOX_DROPPED, kept: issued.slice(ISSUED - LIMIT), refused: issued.slice(0, ISSUED - LIMIT) },
]

for (const { overflow, code, kept, refused } of cases) {
  test(`outbox limit, overflow '${overflow}': ${code} for the overflow, nothing else lost`, async ({ openApp, startPeer, startProxy, topic }) => {
    const peer = await startPeer([topic])
    const proxy = await startProxy()
    const app = await openApp({ ws: proxy.url, topics: [topic], outboxMax: LIMIT, overflow })
    await app.issue({ kind: 'publish', topic, prefix: 'before', count: 3 })
    await expect.poll(() => app.confirmed()).toBe(3)

    proxy.cut()
    await expect.poll(() => app.state()).not.toBe('open')
    await app.issue({ kind: 'publish', topic, prefix: 'q', count: ISSUED })
    await expect.poll(async () => (await app.rejections()).length).toBe(refused.length)
    await expect.poll(() => app.pending(), { message: 'the outbox holds exactly its limit' }).toBe(LIMIT)
    proxy.restore()

    const up = [...ids('before', 3), ...kept]
    await until(async () => (await app.pending()) === 0 && missing(up, await app.messages()).length === 0 && missing(up, peer.seen).length === 0, 20_000)
    // Let nothing refused sneak through: a published-after marker arriving means everything before it has.
    await app.issue({ kind: 'publish', topic, prefix: 'after', count: 1 })
    await until(async () => missing(['after-1'], peer.seen).length === 0, 10_000)

    const rejections = await app.rejections()
    const leaked = peer.seen.filter((s) => refused.includes(s.id)).length
    assertExactlyOnce(
      `outbox-${overflow}`,
      {
        'page→topic (peer saw)': tally([...up, 'after-1'], peer.seen.filter((s) => s.topic === topic)),
        'topic→page': tally([...up, 'after-1'], (await app.messages()).filter((s) => s.topic === topic)),
      },
      `rejected=${rejections.map((r) => `${r.id}:${r.code}`).join(',')} refusedButArrived=${leaked} ${await app.incidents()}`,
    )
    expect([...rejections].sort((a, b) => a.id.localeCompare(b.id))).toEqual(refused.map((id) => ({ id, code })))
    expect(leaked, 'a refused message must never arrive').toBe(0)
  })
}
