/**
 * What the app saw, and the check each client test ends with. A thin adapter over the shared ledger
 * (packages/devserver/src/testing/ledger.ts): these tests publish plain values (1, 2, 3 …), so `exact` numbers
 * the values it expects on a topic as one stream (the k-th expected value is n = k) and replays the client's
 * messages, gaps and resets into a ledger in the order they happened.
 */
import { expect, vi } from 'vitest'
import { INBOX_TOPIC } from '@lifeline/protocol'
import { Ledger as Counter, countsLine, exactlyOnceViolations, type Tag } from '../../../devserver/src/testing/ledger.js'
import type { LifelineClient } from '../../src/client.js'
import type { ClientState, GapEvent, Message, ResetEvent } from '../../src/types.js'
import type { LifelineError } from '../../src/errors.js'

type Event = { message: Message } | { gap: GapEvent } | { reset: ResetEvent }

export class Ledger {
  readonly messages: Message[] = []
  readonly errors: LifelineError[] = []
  readonly states: ClientState[] = []
  readonly gaps: GapEvent[] = []
  readonly resets: ResetEvent[] = []
  private readonly events: Event[] = []

  constructor(client: LifelineClient) {
    client.on('message', (m) => (this.messages.push(m), this.events.push({ message: m })))
    client.on('error', (e) => this.errors.push(e))
    client.on('state', (s) => this.states.push(s.to))
    client.on('gap', (g) => (this.gaps.push(g), this.events.push({ gap: g })))
    client.on('reset', (r) => (this.resets.push(r), this.events.push({ reset: r })))
  }

  data(topic: string): unknown[] {
    return this.messages.filter((m) => m.topic === topic).map((m) => m.data)
  }

  /** Waits until `topic` has `n` messages (bounded), then returns them. */
  async waitFor(topic: string, n: number, timeout = 5000): Promise<unknown[]> {
    await vi.waitFor(() => expect(this.data(topic).length).toBeGreaterThanOrEqual(n), { timeout, interval: 5 })
    return this.data(topic)
  }

  /** Asserts the app saw exactly `expected` on `topic` (once each, in order, nothing else), and prints the counts. */
  exact(name: string, topic: string, expected: unknown[]): void {
    const want = expected.map((d) => JSON.stringify(d))
    const index = new Map(want.map((w, k) => [w, k + 1]))
    if (index.size !== want.length) throw new Error(`exact(${name}): the expected values must be distinct`)
    const tag = (data: unknown): Tag | undefined => {
      const n = index.get(JSON.stringify(data))
      return n === undefined ? undefined : { stream: topic, n }
    }
    const counter = new Counter()
    counter.reads('app', topic)
    for (let n = 1; n <= want.length; n++) counter.sent(topic, { stream: topic, n })
    for (const e of this.events) {
      if ('message' in e) {
        const t = e.message.topic === topic ? tag(e.message.data) : undefined
        if (t) counter.received({ reader: 'app', topic, epoch: e.message.epoch, offset: e.message.offset, ...t })
      } else if ('gap' in e) counter.gap({ reader: 'app', ...e.gap })
      else {
        const mine = e.reset.unconfirmed.filter((u) => (u.topic ?? INBOX_TOPIC) === topic)
        counter.reset({ reader: 'app', unconfirmed: mine.flatMap((u) => tag(u.data) ?? []) })
      }
    }
    const counts = counter.counts()
    console.log(countsLine(name, counts))
    expect(exactlyOnceViolations(counts)).toEqual([])
    expect(this.data(topic).map((d) => JSON.stringify(d))).toEqual(want) // and nothing it did not expect
  }
}

/**
 * Client → server: every value in `want` is a call whose promise resolved, so it must be applied exactly once;
 * `applied` is what the server applied, in order (its log). Prints the counts, asserts, and that nothing else
 * was applied.
 */
export function expectAppliedOnce(name: string, applied: unknown[], want: unknown[]): void {
  const index = new Map(want.map((w, k) => [JSON.stringify(w), k + 1]))
  if (index.size !== want.length) throw new Error(`expectAppliedOnce(${name}): the expected values must be distinct`)
  const counter = new Counter()
  for (let n = 1; n <= want.length; n++) {
    counter.sent('log', { stream: 'app', n })
    counter.settled({ stream: 'app', n }, 'resolved')
  }
  applied.forEach((data, k) => {
    const n = index.get(JSON.stringify(data))
    if (n !== undefined) counter.logged({ topic: 'log', epoch: 'e', offset: k + 1, stream: 'app', n })
  })
  const c = counter.counts()
  console.log(`[${name}] resolved=${c.resolved} applied=${applied.length} notApplied=${c.notApplied} appliedTwice=${c.appliedTwice}`)
  expect({ notApplied: c.notApplied, appliedTwice: c.appliedTwice }).toEqual({ notApplied: 0, appliedTwice: 0 })
  expect(applied).toEqual(want)
}

export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
