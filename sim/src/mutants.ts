/**
 * Mutants: small switches, in the simulation only, that re-introduce bugs Lifeline had (or would have without
 * a given rule), to prove the checker can fail. Each patches the simulation's own copy of the real code (the
 * bundle compiled for `npm run sim`, or the modules a test imported) and undoes it afterwards; production code
 * carries no switch. `npm run sim -- --mutant NAME` must report a violation within the default seeds.
 */
import { ConnectionCore } from '../../packages/devserver/src/node/core/connection.js'
import { Subscription } from '../../packages/devserver/src/node/core/subscription.js'
import { Session } from '../../packages/sdk/src/session.js'
import type { SimStore } from './store.js'

export interface Mutant {
  name: string
  /** The bug it brings back, and which rule normally prevents it. */
  what: string
  /** Switch it on for one world; returns the undo. */
  apply(store: SimStore): () => void
}

/** Replaces `proto[method]` with `wrap(original)` until the returned undo runs. */
function patch<T extends object>(proto: T, method: string, wrap: (original: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown): () => void {
  const target = proto as unknown as Record<string, (...args: unknown[]) => unknown>
  const original = target[method]!
  target[method] = wrap(original)
  return () => void (target[method] = original)
}

type Core = { env: { now: number }; liveness: { frame(now: number): void }; send(text: string): void }
type Sub = { cursor: number }
type Sess = { outbox: { entries: { seq: number; bytes: number }[]; remove(e: unknown): void } }

export const MUTANTS: Mutant[] = [
  {
    name: 'dup-tab-loss',
    what: 'any client holding a valid token may claim the session (no one-writer rule): a duplicated tab takes the other one’s acks for its own',
    apply: (store) => {
      store.mutations.anyClaim = true
      return () => void (store.mutations.anyClaim = false)
    },
  },
  {
    name: 'batch-keeps-first',
    what: 'a batched apply (pubs queued behind one apply, joined into it) acknowledges every seq but appends only the first',
    apply: (store) => {
      store.mutations.batchKeepsFirst = true
      return () => void (store.mutations.batchKeepsFirst = false)
    },
  },
  {
    name: 'rollback-keeps-epoch',
    what: 'a store restored from an older snapshot keeps its epochs, so offsets are reused for other messages',
    apply: (store) => {
      store.mutations.keepEpochOnRollback = true
      return () => void (store.mutations.keepEpochOnRollback = false)
    },
  },
  {
    name: 'claim-after-thaw',
    what: 'a hello read after a freeze is handled (no liveness check on frames) and may claim with an older attempt',
    apply: (store) => {
      store.mutations.ignoreAttempt = true
      const undo = patch(ConnectionCore.prototype, 'frame', (original) =>
        function (this: Core, ...args: unknown[]) {
          this.liveness.frame(this.env.now) // as if every frame were fresh
          return original.apply(this, args)
        },
      )
      return () => {
        store.mutations.ignoreAttempt = false
        undo()
      }
    },
  },
  {
    name: 'outbox-drops-on-1009',
    what: 'after a close 1009 the outbox drops its largest unacknowledged send without settling its promise',
    apply: () =>
      patch(Session.prototype, 'tooBigClose', () =>
        function (this: Sess) {
          const sent = this.outbox.entries.filter((e) => e.seq !== 0)
          const largest = sent.sort((a, b) => b.bytes - a.bytes)[0]
          if (largest) this.outbox.remove(largest)
        },
      ),
  },
  {
    name: 'ack-before-apply',
    what: 'the node acknowledges a write before the store applied it',
    apply: () =>
      patch(ConnectionCore.prototype, 'commit', (original) =>
        function (this: Core, ...args: unknown[]) {
          this.send(JSON.stringify({ t: 'ack', seq: args[0] }))
          return original.apply(this, args)
        },
      ),
  },
  {
    name: 'replay-skips-one',
    what: 'a resume replays from one offset past the client’s position (the seam skips a message)',
    apply: () =>
      patch(Subscription.prototype, 'anchor', (original) =>
        function (this: Sub, ...args: unknown[]) {
          const [head, from] = args as [{ epoch: string; first: number; last: number }, { offset: number; epoch: string } | null]
          const result = original.apply(this, args)
          if (from && from.epoch === head.epoch && from.offset + 1 >= head.first && from.offset < head.last) this.cursor += 1
          return result
        },
      ),
  },
]
