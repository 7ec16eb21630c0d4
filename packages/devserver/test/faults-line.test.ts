/**
 * The delay line every impaired link is made of (faults/line.ts), on a hand-driven clock: latency, jitter that
 * never reorders, bandwidth, a blackhole that holds and releases in order. And parseImpairment, the one check
 * the API, the admin API and the CLI share. No sockets, no processes.
 */
import { describe, expect, it } from 'vitest'
import { DelayLine, OPEN, shapeOf, type LineClock, type Shape } from '../src/faults/line.js'
import { clientPart, describeImpairment, inSeries, MAX_DELAY_MS, parseImpairment } from '../src/faults/options.js'
import { ClusterError } from '../src/errors.js'
import { bandwidthFlag, delayFlag, impairmentFlags } from '../src/faults/flags.js'

/** A clock moved by `advance`; timers fire in due order; `random` replays the given values. */
class ManualClock implements LineClock {
  private t = 0
  private timers: { at: number; fn: () => void; id: number }[] = []
  private nextId = 1
  constructor(private readonly randoms: number[] = []) {}
  now(): number {
    return this.t
  }
  random(): number {
    return this.randoms.length ? (this.randoms.shift() as number) : 0.5
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++
    this.timers.push({ at: this.t + ms, fn, id })
    return id
  }
  clearTimeout(id: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== id)
  }
  advance(ms: number): void {
    const end = this.t + ms
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at)
      const next = this.timers[0]
      if (!next || next.at > end) break
      this.timers.shift()
      this.t = next.at
      next.fn()
    }
    this.t = end
  }
}

function line(shape: Shape, clock: ManualClock): { line: DelayLine<string>; out: { item: string; at: number }[] } {
  const out: { item: string; at: number }[] = []
  return { line: new DelayLine<string>(shape, (item) => out.push({ item, at: clock.now() }), () => {}, clock), out }
}

describe('DelayLine', () => {
  it('an open line delivers at once, in order', () => {
    const clock = new ManualClock()
    const { line: l, out } = line(OPEN, clock)
    l.push('a', 1)
    l.push('b', 1)
    expect(out).toEqual([
      { item: 'a', at: 0 },
      { item: 'b', at: 0 },
    ])
  })

  it('latency delays each item by latencyMs', () => {
    const clock = new ManualClock()
    const { line: l, out } = line(shapeOf({ latencyMs: 300 }), clock)
    l.push('a', 10)
    clock.advance(100)
    l.push('b', 10)
    clock.advance(199)
    expect(out).toEqual([])
    clock.advance(1)
    expect(out).toEqual([{ item: 'a', at: 300 }])
    clock.advance(100)
    expect(out.map((o) => o.at)).toEqual([300, 400])
    expect(l.heldBytes).toBe(0)
  })

  it('jitter varies each delay but never reorders', () => {
    // random 1 → +jitter, 0 → −jitter: the second item would arrive 200 ms before the first without the order rule.
    const clock = new ManualClock([1, 0, 0.5])
    const { line: l, out } = line(shapeOf({ latencyMs: 300, jitterMs: 100 }), clock)
    l.push('a', 1) // due 400
    l.push('b', 1) // would be 200: held behind a
    l.push('c', 1) // 300: behind a as well
    clock.advance(1_000)
    expect(out).toEqual([
      { item: 'a', at: 400 },
      { item: 'b', at: 400 },
      { item: 'c', at: 400 },
    ])
  })

  it('bandwidth spaces items by their bytes', () => {
    const clock = new ManualClock()
    const { line: l, out } = line(shapeOf({ bandwidthBytesPerSec: 1_000 }), clock)
    l.push('a', 500) // on the wire 0–500 ms
    l.push('b', 500) // 500–1000 ms
    clock.advance(2_000)
    expect(out.map((o) => o.at)).toEqual([500, 1_000])
  })

  it('a blackhole holds everything; lifting it releases the held items in order, as if sent then', () => {
    const clock = new ManualClock()
    const { line: l, out } = line(shapeOf({ blackhole: true }), clock)
    for (const x of ['a', 'b', 'c']) l.push(x, 2)
    clock.advance(60_000)
    expect(out).toEqual([])
    expect([l.length, l.heldBytes]).toEqual([3, 6])
    l.reshape(shapeOf({ latencyMs: 50 }))
    clock.advance(49)
    expect(out).toEqual([])
    clock.advance(1)
    expect(out.map((o) => o.item)).toEqual(['a', 'b', 'c'])
  })

  it('flush delivers what is held now; close drops it', () => {
    const clock = new ManualClock()
    const a = line(shapeOf({ latencyMs: 1_000 }), clock)
    a.line.push('x', 1)
    a.line.flush()
    expect(a.out).toEqual([{ item: 'x', at: 0 }])
    const b = line(shapeOf({ blackhole: true }), clock)
    b.line.push('y', 1)
    b.line.close()
    b.line.push('z', 1)
    clock.advance(10_000)
    expect(b.out).toEqual([])
    expect(b.line.heldBytes).toBe(0)
  })

  it('an item that throws on delivery does not hold back the rest', () => {
    const clock = new ManualClock()
    const seen: string[] = []
    const l = new DelayLine<string>(
      shapeOf({ latencyMs: 10 }),
      (item) => {
        if (item === 'bad') throw new Error('socket closed')
        seen.push(item)
      },
      () => {},
      clock,
    )
    for (const x of ['a', 'bad', 'b']) l.push(x, 1)
    clock.advance(10)
    expect(seen).toEqual(['a', 'b'])
  })
})

describe('parseImpairment', () => {
  const code = (f: () => unknown): string | undefined => {
    try {
      f()
    } catch (e) {
      return e instanceof ClusterError ? `${e.code}: ${e.message}` : String(e)
    }
    return undefined
  }

  it('keeps only the fields given', () => {
    expect(parseImpairment({ latencyMs: 300, jitterMs: 50 })).toEqual({ latencyMs: 300, jitterMs: 50 })
    expect(parseImpairment({ blackhole: true, store: { latencyMs: 20 } })).toEqual({ blackhole: true, store: { latencyMs: 20 } })
    expect(parseImpairment({})).toEqual({})
  })

  it('refuses bad values with BAD_OPTION, naming the field and what is allowed', () => {
    expect(code(() => parseImpairment('fast'))).toMatch(/^BAD_OPTION: impairment must be an object/)
    expect(code(() => parseImpairment({ latency: 3 }))).toMatch(/^BAD_OPTION: unknown option "latency"; the options are latencyMs, jitterMs/)
    expect(code(() => parseImpairment({ latencyMs: -1 }))).toMatch(/latencyMs must be a number of milliseconds from 0 to 60000, got -1/)
    expect(code(() => parseImpairment({ latencyMs: MAX_DELAY_MS + 1 }))).toMatch(/use blackhole: true/)
    expect(code(() => parseImpairment({ jitterMs: '50' }))).toMatch(/jitterMs must be a number/)
    expect(code(() => parseImpairment({ bandwidthBytesPerSec: 0 }))).toMatch(/bandwidthBytesPerSec must be an integer >= 1/)
    expect(code(() => parseImpairment({ blackhole: 'yes' }))).toMatch(/blackhole must be true or false, got "yes"/)
    expect(code(() => parseImpairment({ store: { cut: true } }))).toMatch(/unknown option "store.cut"/)
    expect(code(() => parseImpairment({ store: { blackhole: true } }, 'session'))).toMatch(/^BAD_OPTION: store: a page \(a session\) has no link to the store/)
  })

  it('a node and a session in series: delays add, the narrower bandwidth wins, either blackhole stops all', () => {
    expect(inSeries({ latencyMs: 100, bandwidthBytesPerSec: 5_000, store: { blackhole: true } }, { latencyMs: 50, jitterMs: 10, bandwidthBytesPerSec: 1_000, blackhole: true })).toEqual({
      latencyMs: 150,
      jitterMs: 10,
      bandwidthBytesPerSec: 1_000,
      blackhole: true,
      store: { blackhole: true },
    })
    expect(clientPart({ store: { blackhole: true } })).toBeUndefined()
    expect(describeImpairment({ latencyMs: 300, jitterMs: 50, store: { blackhole: true } })).toBe('latency 300 ms ± 50 ms, store: blackhole')
  })
})

describe('lifeline dev --latency/--jitter/--bandwidth', () => {
  it('reads delays as 200ms, 0.2s or plain milliseconds, and rates as bytes, k or M', () => {
    expect([delayFlag('latency', '200ms'), delayFlag('latency', '0.2s'), delayFlag('latency', '200'), delayFlag('jitter', '0')]).toEqual([200, 200, 200, 0])
    expect([bandwidthFlag('64000'), bandwidthFlag('64k'), bandwidthFlag('1M')]).toEqual([64_000, 64_000, 1_000_000])
    expect(impairmentFlags({ latency: '200ms', jitter: '50ms' })).toEqual({ latencyMs: 200, jitterMs: 50 })
    expect(impairmentFlags({})).toBeUndefined()
  })

  it('refuses what is not a delay or a rate, and what parseImpairment would', () => {
    for (const bad of ['fast', '200 ms', '-5', '5m', '']) expect(() => delayFlag('latency', bad), bad).toThrow(/--latency: .* is not a delay; write e.g. 200ms/)
    for (const bad of ['0', 'lots', '64KB']) expect(() => bandwidthFlag(bad), bad).toThrow(/--bandwidth: .* is not a rate/)
    expect(() => impairmentFlags({ latency: '90s' })).toThrow(/latencyMs must be a number of milliseconds from 0 to 60000, got 90000/)
  })
})
