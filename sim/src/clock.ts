/**
 * The simulation's time: a seeded random source and a virtual clock with an event queue. Nothing in the
 * simulation reads the real clock; everything that happens is an event at a virtual time, run in (time,
 * order of scheduling) order, so one seed always gives one history.
 */

/** mulberry32: small, fast, and good enough to choose delays and faults. */
export class Random {
  private s: number
  constructor(seed: number) {
    this.s = seed >>> 0
  }
  /** In [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!
  }
  /** A new independent source, so that adding draws in one place does not move every other choice. */
  fork(): Random {
    return new Random(Math.floor(this.next() * 2 ** 32))
  }
}

type Event = { at: number; order: number; run: () => void; cancelled: boolean; wakes: boolean }

export interface Timer {
  cancel(): void
}

export class Clock {
  now = 0
  private order = 0
  private heap: Event[] = []

  /**
   * Run `run` at virtual time `at` (not before now). `wakes`: it settles a promise (the Redis live fan-out under
   * test is written with them), so every callback that causes runs before the next event.
   */
  at(at: number, run: () => void, wakes = false): Timer {
    const e: Event = { at: Math.max(at, this.now), order: this.order++, run, cancelled: false, wakes }
    this.push(e)
    return { cancel: () => void (e.cancelled = true) }
  }

  after(ms: number, run: () => void, wakes = false): Timer {
    return this.at(this.now + ms, run, wakes)
  }

  get pending(): number {
    return this.heap.length
  }

  /** Run events in order until `until` (or `limit` events). */
  async run(until: number, limit = Infinity): Promise<number> {
    let ran = 0
    while (this.heap.length > 0 && this.heap[0]!.at <= until && ran < limit) {
      const e = this.pop()
      if (e.cancelled) continue
      this.now = e.at
      e.run()
      ran++
      if (e.wakes) await settle()
    }
    if (this.now < until) this.now = until
    return ran
  }

  private push(e: Event): void {
    const h = this.heap
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
  }

  private pop(): Event {
    const h = this.heap
    const top = h[0]!
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && before(h[l]!, h[m]!)) m = l
        if (r < h.length && before(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return top
  }
}

function before(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order)
}

/** Lets every pending promise callback run (they are microtasks; an immediate runs after all of them). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
