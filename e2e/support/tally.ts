/**
 * Counting, not sampling: every spec ends by comparing what was sent with what arrived, and asserts that
 * nothing was lost, nothing arrived twice and nothing arrived out of order. Pure functions over plain lists.
 */
import { expect } from '@playwright/test'

/** One delivered message as a receiver saw it, in delivery order. Ids are `${prefix}-${i}`, i = 1, 2, 3 … */
export interface Seen {
  topic: string
  offset: number
  id: string
}

export interface Tally {
  expected: number
  received: number
  lost: number
  duplicated: number
  outOfOrder: number
}

/**
 * `expected`: ids that must arrive exactly once. `seen`: every delivery (only ids in `expected` count, so a
 * receiver's other traffic is ignored). Out of order: a delivery whose offset is below an earlier one of the
 * same topic, or whose `i` is below an earlier one from the same prefix (the sender's own order).
 */
export function tally(expected: Iterable<string>, seen: readonly Seen[]): Tally {
  const want = new Set(expected)
  const times = new Map<string, number>()
  const topOffset = new Map<string, number>()
  const topIndex = new Map<string, number>()
  let received = 0
  let outOfOrder = 0
  for (const s of seen) {
    if (!want.has(s.id)) continue
    received += 1
    const n = (times.get(s.id) ?? 0) + 1
    times.set(s.id, n)
    if (n > 1) continue // counted as a duplicate, not also as out of order
    const { prefix, i } = parseId(s.id)
    const stream = `${s.topic}\u0000${prefix}`
    const late = s.offset < (topOffset.get(s.topic) ?? 0) || i < (topIndex.get(stream) ?? 0)
    if (late) outOfOrder += 1
    topOffset.set(s.topic, Math.max(s.offset, topOffset.get(s.topic) ?? 0))
    topIndex.set(stream, Math.max(i, topIndex.get(stream) ?? 0))
  }
  const lost = [...want].filter((id) => !times.has(id)).length
  return { expected: want.size, received, lost, duplicated: received - times.size, outOfOrder }
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

/** Prints one line per direction and asserts each count is 0. */
export function assertExactlyOnce(spec: string, tallies: Record<string, Tally>, extra = ''): void {
  const parts = Object.entries(tallies).map(
    ([name, t]) => `${name}: expected=${t.expected} received=${t.received} lost=${t.lost} duplicated=${t.duplicated} outOfOrder=${t.outOfOrder}`,
  )
  console.log(`[e2e] ${spec} | ${parts.join(' | ')}${extra ? ` | ${extra}` : ''}`)
  for (const [name, t] of Object.entries(tallies)) {
    expect.soft(t.lost, `${name}: lost`).toBe(0)
    expect.soft(t.duplicated, `${name}: duplicated`).toBe(0)
    expect.soft(t.outOfOrder, `${name}: out of order`).toBe(0)
  }
}

function parseId(id: string): { prefix: string; i: number } {
  const cut = id.lastIndexOf('-')
  return { prefix: id.slice(0, cut), i: Number(id.slice(cut + 1)) }
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
