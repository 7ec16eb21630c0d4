import type { Retention } from './types.js'

const MiB = 1024 * 1024

/**
 * Topic log retention, written once for every store (DESIGN "Defaults worth knowing").
 * - 10,000 messages per topic: a client offline for minutes at chat rates (tens of msg/s) still catches up
 *   from the log, while one busy topic stays bounded (10,000 × a few hundred bytes ≈ a few MB).
 * - 2 minutes: the same as session retention. A position older than a session can live is useless (the
 *   client gets `reset` anyway), and older positions get an explicit `gap`.
 * - 16 MiB per topic (memory store): sixteen of the largest frame a node accepts by default (maxFrameBytes,
 *   1 MiB), so a topic of big payloads still replays a short outage; at chat sizes the 10,000 messages bind
 *   first and this never does. Without it, 1 MiB publishes grew the supervisor by 1.7 GB in 45 s.
 * - 256 MiB for the whole memory store: a dev cluster on a laptop. Retained JSON costs roughly 1-3× its size
 *   in heap (a Latin-1 string about 1×, parsed objects of small fields 2-3×), so the supervisor stays well under
 *   a GB and under Node's default heap limit, however many topics are busy (sixteen full topics reach it).
 */
export const DEFAULT_RETENTION: Retention = { maxMessages: 10_000, maxAgeMs: 120_000, maxBytes: 16 * MiB, maxTotalBytes: 256 * MiB }

/** Merge partial options over the defaults, once. */
export function retentionWith(partial: Partial<Retention> = {}): Retention {
  return { ...DEFAULT_RETENTION, ...partial }
}
