/**
 * Counting messages, not sampling them: every publisher numbers its messages 1, 2, 3 …; every reader records
 * each (publisher, n) it receives. At the end each reader is compared with what each publisher had sent:
 * lost = sent but never received, duplicated = received again, out of order = received after a later one of
 * the same publisher (or at an offset not above the last one on its topic). Pure: no sockets, no clock.
 * Reusable by the e2e and bench harnesses.
 */

/** What every counted message carries as its data. */
export interface Tag {
  from: string
  n: number
}

export interface Counts {
  /** Messages the publishers sent (sum over publishers). */
  sent: number
  /** Receipts expected: for every reader, every message of every publisher it reads. */
  expected: number
  /** Distinct receipts. */
  received: number
  lost: number
  duplicated: number
  outOfOrder: number
  /** Explicit `gap` / `reset` events (honest loss: still a failure in a test that expects none). */
  gaps: number
  resets: number
}

export function isTag(data: unknown): data is Tag {
  const t = data as Tag
  return typeof t === 'object' && t !== null && typeof t.from === 'string' && Number.isInteger(t.n)
}

class Reader {
  readonly seen = new Map<string, Set<number>>()
  private readonly highest = new Map<string, number>()
  private readonly lastOffset = new Map<string, number>()
  duplicated = 0
  outOfOrder = 0
  gaps = 0
  resets = 0

  constructor(readonly publishers: () => Iterable<string>) {}

  receive(topic: string, offset: number, tag: Tag): void {
    const seen = this.seen.get(tag.from) ?? new Set<number>()
    this.seen.set(tag.from, seen)
    if (seen.has(tag.n)) {
      this.duplicated++
      return
    }
    seen.add(tag.n)
    const last = this.lastOffset.get(topic) ?? 0
    if (tag.n < (this.highest.get(tag.from) ?? 0) || offset <= last) this.outOfOrder++
    this.highest.set(tag.from, Math.max(tag.n, this.highest.get(tag.from) ?? 0))
    this.lastOffset.set(topic, Math.max(offset, last))
  }
}

export class Ledger {
  private readonly sentBy = new Map<string, number>()
  private readonly readers = new Map<string, Reader>()

  /** Record that `from` sent message `n` (call before sending, so an in-flight message counts as expected). */
  sent(from: string, n: number): void {
    this.sentBy.set(from, Math.max(n, this.sentBy.get(from) ?? 0))
  }

  /**
   * A reader of every publisher's messages (a topic subscriber), or of `only` some (its own inbox).
   * Returns the function to call for each message it receives.
   */
  reader(name: string, only?: string[]): (topic: string, offset: number, data: unknown) => void {
    const reader = new Reader(() => only ?? this.sentBy.keys())
    this.readers.set(name, reader)
    return (topic, offset, data) => {
      if (isTag(data)) reader.receive(topic, offset, data)
    }
  }

  gap(reader: string): void {
    const r = this.readers.get(reader)
    if (r) r.gaps++
  }

  reset(reader: string): void {
    const r = this.readers.get(reader)
    if (r) r.resets++
  }

  /** Every reader has every message sent so far. */
  complete(): boolean {
    const c = this.counts()
    return c.received >= c.expected
  }

  counts(): Counts {
    const c: Counts = { sent: 0, expected: 0, received: 0, lost: 0, duplicated: 0, outOfOrder: 0, gaps: 0, resets: 0 }
    for (const n of this.sentBy.values()) c.sent += n
    for (const reader of this.readers.values()) {
      c.duplicated += reader.duplicated
      c.outOfOrder += reader.outOfOrder
      c.gaps += reader.gaps
      c.resets += reader.resets
      for (const from of reader.publishers()) {
        const sent = this.sentBy.get(from) ?? 0
        const seen = reader.seen.get(from)
        c.expected += sent
        for (let n = 1; n <= sent; n++) {
          if (seen?.has(n)) c.received++
          else c.lost++
        }
      }
    }
    return c
  }
}

/** Adds counts up (topic ledger + inbox ledger). */
export function sumCounts(...all: Counts[]): Counts {
  const total: Counts = { sent: 0, expected: 0, received: 0, lost: 0, duplicated: 0, outOfOrder: 0, gaps: 0, resets: 0 }
  for (const c of all) for (const k of Object.keys(total) as (keyof Counts)[]) total[k] += c[k]
  return total
}

/** One line for the test log: `kill: sent=600 received=1800/1800 lost=0 duplicated=0 outOfOrder=0 gaps=0 resets=0 …`. */
export function countsLine(label: string, c: Counts, extra: Record<string, string | number> = {}): string {
  const parts = [
    `sent=${c.sent}`,
    `received=${c.received}/${c.expected}`,
    `lost=${c.lost}`,
    `duplicated=${c.duplicated}`,
    `outOfOrder=${c.outOfOrder}`,
    `gaps=${c.gaps}`,
    `resets=${c.resets}`,
    ...Object.entries(extra).map(([k, v]) => `${k}=${v}`),
  ]
  return `[${label}] ${parts.join(' ')}`
}
