/**
 * Counting, not sampling: every spec ends by comparing what was sent with what arrived, with the shared ledger
 * (packages/devserver/src/testing/ledger.ts, the definitions of lost, duplicated and out of order). This is
 * its adapter for the page's DOM: a message id `${prefix}-${i}` is the tag (stream = prefix, n = i).
 */
import { expect } from '@playwright/test'
import { INBOX_TOPIC } from '@lifeline/protocol'
import { Ledger, exactlyOnceViolations, formatCounts, inboxOf, type Counts, type Tag } from '../../packages/devserver/src/testing/ledger.js'

/** One delivered message as a receiver saw it, in delivery order. */
export interface Seen {
  topic: string
  offset: number
  /** The message's epoch (absent in lists recorded without one: then every receipt is in one epoch). */
  epoch?: string
  id: string
}

/** `up-12` → {stream: 'up', n: 12}; undefined for an id that is not one. */
export function tagOfId(id: string): Tag | undefined {
  const cut = id.lastIndexOf('-')
  const n = Number(id.slice(cut + 1))
  return cut > 0 && Number.isInteger(n) && n > 0 ? { stream: id.slice(0, cut), n } : undefined
}

/**
 * Counts one receiver's deliveries on one topic (filter `seen` by topic first) against `expected`: the ids it
 * must get, each exactly once. Deliveries of other ids take part in the order rule and count as unexpected.
 */
export function tally(expected: Iterable<string>, seen: readonly Seen[]): Counts {
  const reader = 'receiver'
  const named = seen[0]?.topic ?? 'topic'
  const other = seen.find((s) => s.topic !== named)
  if (other) throw new Error(`tally: deliveries of '${named}' and '${other.topic}' in one list; filter by topic first`)
  const topic = named === INBOX_TOPIC ? inboxOf(reader) : named
  const ledger = new Ledger()
  ledger.reads(reader, named)
  for (const id of expected) {
    const tag = tagOfId(id)
    if (!tag) throw new Error(`tally: '${id}' is not a \`prefix-i\` id`)
    ledger.sent(topic, tag)
  }
  for (const s of seen) {
    const tag = tagOfId(s.id)
    if (tag) ledger.received({ reader, topic: s.topic, epoch: s.epoch ?? '', offset: s.offset, ...tag })
  }
  return ledger.counts()
}

/** `a-1`, `a-2` … `a-n`. */
export function ids(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, k) => `${prefix}-${k + 1}`)
}

/** Ids in `expected` that `seen` has not delivered yet. */
export function missing(expected: Iterable<string>, seen: readonly Seen[]): string[] {
  const got = new Set(seen.map((s) => s.id))
  return [...expected].filter((id) => !got.has(id))
}

/** Prints one line per direction and asserts each exactly once (nothing lost, duplicated or reordered). */
export function assertExactlyOnce(spec: string, tallies: Record<string, Counts>, extra = ''): void {
  const parts = Object.entries(tallies).map(([name, t]) => `${name}: ${formatCounts(t)}`)
  console.log(`[e2e] ${spec} | ${parts.join(' | ')}${extra ? ` | ${extra}` : ''}`)
  for (const [name, t] of Object.entries(tallies)) expect.soft(exactlyOnceViolations(t), name).toEqual([])
}

/**
 * Polls `condition` until it holds or `timeoutMs` passes; returns whether it held. Unlike `expect.poll` it
 * does not fail the test by itself, so a spec can still count and print what arrived before asserting.
 */
export async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await condition()) return true
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
