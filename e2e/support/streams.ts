/**
 * How every two-way failover spec ends: wait (bounded) until all three streams arrived, then count each and
 * assert it exactly once. Written once so the specs cannot drift apart in what they wait for, count or print.
 */
import type { App } from './app.js'
import type { Peer } from './peer.js'
import { assertExactlyOnce, missing, tally, until } from './tally.js'

export interface Streams {
  /** Published by the page: the peer must see each once. */
  up: string[]
  /** Published to the topic (by either side): the page must see each once. */
  toPage: string[]
  /** Sent by the page: each must come back into its own inbox once. */
  echo: string[]
}

export interface Settle {
  /** The page's own sign that it is through (nothing pending, all confirmed …), checked with the streams. */
  done: () => Promise<boolean>
  timeoutMs: number
  /** Printed after the counts, before the page's incidents. */
  extra: string
}

/** Waits for `streams` (or `timeoutMs`), prints one line of counts and asserts nothing lost, duplicated or reordered. */
export async function assertStreamsExactlyOnce(
  spec: string,
  { app, peer, topic }: { app: App; peer: Peer; topic: string },
  { up, toPage, echo }: Streams,
  settle: Settle,
): Promise<void> {
  await until(async () => {
    const seen = await app.messages()
    return (await settle.done()) && missing(toPage, seen).length === 0 && missing(echo, seen).length === 0 && missing(up, peer.seen).length === 0
  }, settle.timeoutMs)

  const seen = await app.messages()
  assertExactlyOnce(
    spec,
    {
      'page→topic (peer saw)': tally(up, peer.seen.filter((s) => s.topic === topic)),
      'topic→page': tally(toPage, seen.filter((s) => s.topic === topic)),
      'send→inbox→page': tally(echo, seen.filter((s) => s.topic === '@inbox')),
    },
    `${settle.extra} ${await app.incidents()}`,
  )
}
