import { describe, expect, it } from 'vitest'
import { frameText, newEntry, Outbox, type Overflow } from '../src/outbox.js'

const box = (maxMessages: number, maxBytes: number, overflow: Overflow) => new Outbox({ maxMessages, maxBytes, overflow })
const add = (o: Outbox, data: string, ticket: unknown = data) => o.add(newEntry('t', JSON.stringify(data), ticket))

describe('outbox', () => {
  it("'reject': the new call is refused when full by count or bytes, and nothing else is dropped", () => {
    const o = box(3, 1000, 'reject')
    for (const d of ['a', 'b', 'c']) expect(add(o, d)).toEqual({ ok: true, dropped: [] })
    expect(add(o, 'd')).toMatchObject({ ok: false, message: expect.stringContaining('outbox full: 3 messages') })
    expect(o.entries.map((e) => e.ticket)).toEqual(['a', 'b', 'c'])
    const small = box(10, 10, 'reject') // "x" as JSON is 3 bytes + topic "t" 1 byte = 4
    expect(add(small, 'x').ok && add(small, 'y').ok).toBe(true)
    expect(add(small, 'z').ok).toBe(false)
    expect(small.bytes).toBe(8)
  })

  it("'drop-oldest': drops the oldest never-transmitted entries to make room, never a transmitted one", () => {
    const o = box(3, 1000, 'drop-oldest')
    add(o, 'a'), add(o, 'b')
    o.assign() // a=1, b=2 written to a socket
    add(o, 'c')
    const r = add(o, 'd')
    expect(r.ok && r.dropped.map((e) => e.ticket)).toEqual(['c'])
    expect(o.entries.map((e) => [e.ticket, e.seq])).toEqual([['a', 1], ['b', 2], ['d', 0]])
    o.assign()
    expect(add(o, 'e')).toMatchObject({ ok: false }) // every entry is transmitted: refuse rather than drop one
    expect(o.size).toBe(3)
  })

  it('refuses a single message larger than maxBytes under either policy', () => {
    for (const p of ['reject', 'drop-oldest'] as const) expect(add(box(10, 5, p), 'too long')).toMatchObject({ ok: false })
  })

  it('cumulative ack removes the transmitted prefix; renumber after welcome starts at acked + 1', () => {
    const o = box(10, 1000, 'reject')
    for (const d of ['a', 'b', 'c', 'd']) add(o, d)
    expect(o.assign().map((e) => e.seq)).toEqual([1, 2, 3, 4])
    expect(o.ack(2).map((e) => e.ticket)).toEqual(['a', 'b'])
    add(o, 'e')
    const r = o.renumber(3) // server applied up to 3 meanwhile
    expect(r.done.map((e) => e.ticket)).toEqual(['c'])
    expect(r.send.map((e) => [e.ticket, e.seq])).toEqual([['d', 4], ['e', 5]])
    expect(o.assign()).toEqual([])
  })

  it('takeUnconfirmed returns transmitted (and restored) entries and keeps the rest for the new session; bytes stay exact', () => {
    const o = box(10, 1000, 'reject')
    add(o, 'a'), o.assign(), add(o, 'b')
    expect(o.takeUnconfirmed().map((e) => e.ticket)).toEqual(['a'])
    expect(o.entries.map((e) => [e.ticket, e.seq])).toEqual([['b', 0]])
    expect(o.bytes).toBe(4)
    expect(o.refuse(0)).toBeUndefined()
    expect(o.renumber(0).send.map((e) => e.seq)).toEqual([1])
    expect(o.refuse(1)?.ticket).toBe('b')
    expect(o.bytes).toBe(0)
  })

  it('frames embed the data JSON as given', () => {
    const e = newEntry('chat', '{"text":"hé"}')
    e.seq = 7
    expect(JSON.parse(frameText(e))).toEqual({ t: 'pub', seq: 7, topic: 'chat', data: { text: 'hé' } })
    expect(e.bytes).toBe(14 + 4) // é is 2 bytes in UTF-8
    const s = newEntry(undefined, '[1]')
    s.seq = 1
    expect(JSON.parse(frameText(s))).toEqual({ t: 'send', seq: 1, data: [1] })
  })
})
