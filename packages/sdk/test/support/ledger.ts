/** What the app saw, and the counts each fault test asserts: lost, duplicated, out of order. */
import { expect, vi } from 'vitest'
import type { LifelineClient } from '../../src/client.js'
import type { ClientState, GapEvent, Message, ResetEvent } from '../../src/types.js'
import type { LifelineError } from '../../src/errors.js'

export class Ledger {
  readonly messages: Message[] = []
  readonly errors: LifelineError[] = []
  readonly states: ClientState[] = []
  readonly gaps: GapEvent[] = []
  readonly resets: ResetEvent[] = []

  constructor(client: LifelineClient) {
    client.on('message', (m) => this.messages.push(m))
    client.on('error', (e) => this.errors.push(e))
    client.on('state', (s) => this.states.push(s.to))
    client.on('gap', (g) => this.gaps.push(g))
    client.on('reset', (r) => this.resets.push(r))
  }

  data(topic: string): unknown[] {
    return this.messages.filter((m) => m.topic === topic).map((m) => m.data)
  }

  /** Waits until `topic` has `n` messages (bounded), then returns them. */
  async waitFor(topic: string, n: number, timeout = 5000): Promise<unknown[]> {
    await vi.waitFor(() => expect(this.data(topic).length).toBeGreaterThanOrEqual(n), { timeout, interval: 5 })
    return this.data(topic)
  }

  /** Asserts the app saw exactly `expected` on `topic`, and prints the counts. */
  exact(name: string, topic: string, expected: unknown[]): void {
    const got = this.data(topic).map((d) => JSON.stringify(d))
    const want = expected.map((d) => JSON.stringify(d))
    const seen = new Set<string>()
    let dup = 0
    for (const g of got) seen.has(g) ? dup++ : seen.add(g)
    const lost = want.filter((w) => !seen.has(w)).length
    const firsts = got.filter((g, i) => got.indexOf(g) === i && want.includes(g))
    let outOfOrder = 0
    for (let i = 1; i < firsts.length; i++) if (want.indexOf(firsts[i]!) < want.indexOf(firsts[i - 1]!)) outOfOrder++
    console.log(`${name}: ${want.length} sent, ${got.length} delivered, lost ${lost}, duplicated ${dup}, out of order ${outOfOrder}`)
    expect({ lost, dup, outOfOrder }).toEqual({ lost: 0, dup: 0, outOfOrder: 0 })
    expect(got).toEqual(want)
  }
}

export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
