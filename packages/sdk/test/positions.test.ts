import { describe, expect, it } from 'vitest'
import { Positions } from '../src/positions.js'

describe('positions', () => {
  it('verdicts: deliver last+1, duplicate ≤ last, resync on a skip or another epoch, early before a start', () => {
    const p = new Positions({ chat: { offset: 4, epoch: 'e' } })
    expect(p.check('chat', 5, 'e')).toBe('deliver')
    expect(p.check('chat', 4, 'e')).toBe('duplicate')
    expect(p.check('chat', 1, 'e')).toBe('duplicate')
    expect(p.check('chat', 6, 'e')).toBe('resync')
    expect(p.check('chat', 5, 'f')).toBe('resync')
    expect(p.check('news', 1, 'e')).toBe('early')
  })

  it('counts: a random replay with overlaps delivers every offset exactly once, in order', () => {
    const p = new Positions()
    p.subscribed({ t: 'subscribed', topic: 't', offset: 0, epoch: 'e', recovered: true })
    const delivered: number[] = []
    let seed = 7
    const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647)
    let head = 0
    for (let round = 0; round < 500; round++) {
      // the server replays from some point at or before our position, then sends new ones
      const from = Math.max(1, (p.map.get('t')?.offset ?? 0) - Math.floor(rnd() * 5))
      head += Math.floor(rnd() * 4)
      for (let off = from; off <= head; off++) {
        if (p.check('t', off, 'e') === 'deliver') p.advance('t', off), delivered.push(off)
      }
    }
    expect(delivered).toEqual(Array.from({ length: head }, (_, i) => i + 1))
    console.log(`positions replay: ${head} offsets, ${delivered.length} delivered, 0 lost, 0 duplicated, order kept`)
  })

  it('subscribed: fresh at head, resume kept, gaps move the position past the loss', () => {
    const p = new Positions({ kept: { offset: 3, epoch: 'e' }, old: { offset: 3, epoch: 'e' } })
    expect(p.subscribed({ t: 'subscribed', topic: 'new', offset: 9, epoch: 'e', recovered: true })).toBeUndefined()
    expect(p.map.get('new')).toEqual({ offset: 9, epoch: 'e' })
    expect(p.subscribed({ t: 'subscribed', topic: 'kept', offset: 9, epoch: 'e', recovered: true })).toBeUndefined()
    expect(p.map.get('kept')).toEqual({ offset: 3, epoch: 'e' })
    const gap = { reason: 'retention' as const, from: 4, to: 6 }
    expect(p.subscribed({ t: 'subscribed', topic: 'old', offset: 9, epoch: 'e', recovered: false, gap })).toEqual({ topic: 'old', ...gap, epoch: 'e' })
    expect(p.check('old', 7, 'e')).toBe('deliver')
    expect(p.subs(['kept', 'none'])).toEqual({ kept: { offset: 3, epoch: 'e' }, none: null })
    // A gap against no position of ours (an inbox dropped at a reset) is not the app's loss: no event, start after it.
    const epochGap = { reason: 'epoch' as const, from: 1, to: 0 }
    expect(p.subscribed({ t: 'subscribed', topic: '@inbox', offset: 0, epoch: 'x', recovered: false, gap: epochGap })).toBeUndefined()
    expect(p.check('@inbox', 1, 'x')).toBe('deliver')
    // A retention gap never steps back over what was delivered.
    const back = { reason: 'retention' as const, from: 2, to: 2 }
    expect(p.subscribed({ t: 'subscribed', topic: 'old', offset: 9, epoch: 'e', recovered: false, gap: back })).toBeDefined()
    expect(p.check('old', 7, 'e')).toBe('deliver')
  })
})
