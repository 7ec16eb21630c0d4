/**
 * A MemoryStore that counts what it refuses, for a cluster started with `store: new CountingStore()`: proof
 * that a fault test really produced zombie writes (and that they were refused), rather than none at all.
 */
import { MemoryStore } from '../../src/store/memory.js'
import type { ApplyOp, ApplyResult } from '../../src/store/types.js'

export class CountingStore extends MemoryStore {
  /** apply() calls refused because a newer connection had claimed the session (zombie writes). */
  staleWrites = 0
  /** apply() calls acknowledged as already applied (resends after a failover). */
  duplicates = 0

  override async apply(op: ApplyOp): Promise<ApplyResult> {
    const result = await super.apply(op)
    if (result.status === 'stale-generation') this.staleWrites++
    if (result.status === 'duplicate') this.duplicates++
    return result
  }
}
