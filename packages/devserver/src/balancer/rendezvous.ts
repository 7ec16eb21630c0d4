/**
 * Sticky routing by session id with rendezvous (highest-random-weight) hashing: every node gets a score for a
 * session, the highest score wins. Why HRW rather than a ring or `hash % n`: when a node leaves, only the
 * sessions whose winner it was move (each to its own runner-up); when a node joins, it takes only the sessions
 * it now wins. Every other session keeps its node, so a failure does not reshuffle healthy clients.
 */
import { createHash } from 'node:crypto'

/**
 * The weight of `nodeId` for `key`. MD5 rather than a fast non-cryptographic hash because HRW needs scores that
 * are independent across nodes with similar names (`n1`, `n2`); 48 bits keep it an exact JS number.
 * It costs about a microsecond per node, once per connection.
 */
function rendezvousScore(key: string, nodeId: string): number {
  return createHash('md5').update(nodeId).update('\0').update(key).digest().readUIntBE(0, 6)
}

/** The node that serves `key` among `nodeIds`, or undefined when there is none. Ties break by id, so it is total. */
export function pickRendezvous(key: string, nodeIds: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestScore = -1
  for (const id of nodeIds) {
    const score = rendezvousScore(key, id)
    if (score > bestScore || (score === bestScore && best !== undefined && id < best)) {
      best = id
      bestScore = score
    }
  }
  return best
}
