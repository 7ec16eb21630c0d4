/**
 * Offsets are dense within an epoch: 1, 2, 3 … with no holes. So a reader that remembers the last offset it
 * passed on can place any message it is handed in one of four ways, and every gap repair in the devserver
 * (a connection's subscription, node/core/subscription.ts; Redis pub/sub turned into an ordered stream,
 * store/redis-live.ts) decides with this one rule.
 */

/** Where a reader stands: the epoch it reads and the last offset it passed on. */
export interface Cursor {
  epoch: string | undefined
  last: number | undefined
}

export type Place =
  /** The very next one (`last + 1` in the same epoch): pass it on now. */
  | 'next'
  /** At or below `last` in the same epoch: passed on already (a replay overlap, a late duplicate): drop it. */
  | 'seen'
  /** Above `last + 1`: the range between is missing; read it from the log first. */
  | 'ahead'
  /** Another epoch: the log was replaced, or this is a late message of the old one; look at the head. */
  | 'foreign'
  /** The reader does not know where it stands yet. */
  | 'unplaced'

export function placeOf(cursor: Cursor, m: { epoch: string; offset: number }): Place {
  if (cursor.last === undefined || cursor.epoch === undefined) return 'unplaced'
  if (m.epoch !== cursor.epoch) return 'foreign'
  if (m.offset <= cursor.last) return 'seen'
  return m.offset === cursor.last + 1 ? 'next' : 'ahead'
}
