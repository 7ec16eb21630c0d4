/**
 * Batched applies for every store. The node joins pubs queued behind an apply into one op (`ApplyOp.through`,
 * node/core/connection.ts `batchAfter`); a store that applies such an op atomically says so with
 * `appliesBatches` (memory, Redis, IPC). Any other Store (one an app wrote before batches existed) gets the batch
 * as the single-seq applies it always knew, one after another: without this it would apply every append of the
 * batch but record only its first seq as acked, and the client's resend of the rest would apply them twice.
 */
import type { ApplyOp, ApplyResult, StoredMessage, Store } from './types.js'

export function applyOp(store: Store, op: ApplyOp): Promise<ApplyResult> {
  if (op.through === undefined || op.through === op.seq || store.appliesBatches === true) return store.apply(op)
  return applyOneByOne(store, op)
}

/** Seq `op.seq + i` carries `op.appends[i]`: a batch is made of pubs, one append each. */
async function applyOneByOne(store: Store, op: ApplyOp): Promise<ApplyResult> {
  const { through: _batch, appends, ...rest } = op
  const messages: StoredMessage[] = []
  let applied = false
  for (let i = 0; i < appends.length; i++) {
    const r = await store.apply({ ...rest, seq: op.seq + i, appends: [appends[i]!] })
    if (r.status === 'applied') {
      applied = true
      messages.push(...r.messages)
    } else if (r.status !== 'duplicate') {
      // What is applied stays applied (and acked in the store); the connection reports this answer, closes,
      // and the client's resume learns the store's acked.
      return r
    }
  }
  return applied ? { status: 'applied', messages } : { status: 'duplicate' }
}
