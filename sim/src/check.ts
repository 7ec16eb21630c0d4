/**
 * What must hold at the end of every scenario. The message counts are the one ledger's
 * (packages/devserver/src/testing/ledger.ts: lost, duplicated, out of order, reported versus silent, resolved
 * sends applied exactly once), fed with every delivery, gap and reset the clients saw and with every append the
 * store ever made (its history: the ground truth). Beside them, what only a simulation can see:
 * - no client receives another session's inbox;
 * - no session is claimed by a hello older than one its client already claimed it with (a stale hello);
 * - every promise of a client still on its page has settled, and every such client is open again;
 * - memory stays bounded (outboxes within their limit).
 */
import { inboxOf, silentViolations, type Counts } from '../../packages/devserver/src/testing/ledger.js'
import type { World } from './world.js'

export interface Verdict {
  violations: string[]
  counts: Counts
}

export function check(world: World): Verdict {
  for (const h of world.store.history) {
    const t = h.data as { stream?: unknown; n?: unknown }
    if (typeof t?.stream !== 'string' || typeof t.n !== 'number') continue
    const topic = h.topic.startsWith('@inbox:') ? inboxOf(t.stream.slice(0, t.stream.indexOf('.'))) : h.topic
    world.ledger.logged({ topic, epoch: h.epoch, offset: h.offset, stream: t.stream, n: t.n })
  }
  const counts = world.ledger.counts()
  const violations = silentViolations(counts)
  if (world.runaway) violations.unshift(`runaway: ${world.runaway}`)
  if (violations.length > 0) {
    const misses = world.ledger.misses().filter((m) => m.by === null).slice(0, 5)
    for (const m of misses) violations.push(`  silent: ${m.reader} never got ${m.stream}#${m.n} on ${m.topic}`)
  }
  violations.push(...world.seen.foreignInbox.map((line) => `foreign inbox: ${line}`))

  const claimed = new Map<string, number>()
  for (const c of world.store.claims) {
    if (c.instance === undefined) continue
    const key = `${c.session}/${c.instance}`
    const before = claimed.get(key)
    if (before !== undefined && c.attempt <= before) violations.push(`stale claim: session ${c.session} claimed by attempt ${c.attempt} of ${c.instance} after attempt ${before}`)
    claimed.set(key, Math.max(before ?? 0, c.attempt))
  }

  for (const p of world.pages) {
    const c = p.client
    if (c.pending.size > 0) violations.push(`unsettled: ${p.name}.${c.incarnation} has ${c.pending.size} promises pending at the end (${[...c.pending.keys()].slice(0, 3).join(', ')})`)
    if (c.core.state !== 'open') violations.push(`not recovered: ${p.name}.${c.incarnation} is ${c.core.state} at the end`)
  }
  if (world.seen.maxOutbox > 1_000) violations.push(`unbounded: an outbox held ${world.seen.maxOutbox} messages (limit 1,000)`)
  return { violations, counts }
}
