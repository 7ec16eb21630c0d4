import type { Retention } from './types.js'

/**
 * Topic log retention, written once for every store (DESIGN "Defaults worth knowing").
 * - 10,000 messages per topic: a client offline for minutes at chat rates (tens of msg/s) still catches up
 *   from the log, while one busy topic stays bounded (10,000 × a few hundred bytes ≈ a few MB).
 * - 2 minutes: the same as session retention. A position older than a session can live is useless (the
 *   client gets `reset` anyway), and older positions get an explicit `gap`.
 */
export const DEFAULT_RETENTION: Retention = { maxMessages: 10_000, maxAgeMs: 120_000 }

/** Merge partial options over the defaults, once. */
export function retentionWith(partial: Partial<Retention> = {}): Retention {
  return { ...DEFAULT_RETENTION, ...partial }
}
