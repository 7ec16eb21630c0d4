import { describe, expect, it } from 'vitest'
import { decodeServerFrame as reference } from '@lifeline/protocol'
import { decodeServerFrame } from '../src/decode.js'

const valid: Record<string, unknown>[] = [
  { t: 'welcome', session: { id: 's', token: 'x.y' }, resumed: true, node: 'n1', acked: 0, heartbeatMs: 2000, timeoutMs: 5000 },
  { t: 'msg', topic: 'chat', offset: 1, epoch: 'e1', data: { text: 'hi' } },
  { t: 'msg', topic: '@inbox', offset: 9, epoch: 'e', data: null },
  { t: 'msg', topic: 'chat', offset: 2, epoch: 'e1', data: 'hi', from: 'alice' },
  { t: 'presence', topic: 'room', user: 'bob', joined: true },
  { t: 'ack', seq: 0 },
  { t: 'subscribed', topic: 'a/b:c', offset: 0, epoch: 'e', recovered: true },
  { t: 'subscribed', topic: 'x', offset: 9, epoch: 'e', recovered: false, gap: { reason: 'epoch', from: 1, to: 0 } },
  { t: 'subscribed', topic: 'x', offset: 9, epoch: 'e', recovered: false, gap: { reason: 'retention', from: 3, to: 4 }, after: 4 },
  { t: 'result', id: 1, value: { epoch: 'e', messages: [] } },
  { t: 'error', code: 'BAD_FRAME', message: 'm', id: 2 },
  { t: 'unsubscribed', topic: 'x' },
  { t: 'error', code: 'SEQ_GAP', message: 'm', seq: 3, topic: 'x' },
  { t: 'error', code: 'X', message: '' },
  { t: 'ping' },
  { t: 'pong' },
]
const wrong: unknown[] = ['', 'x', 'has space', '@other', 'x'.repeat(65), 'x'.repeat(257), 0, -1, 1, 1.5, 2 ** 53, true, null, [], {}, { reason: 'lost', from: 1, to: 2 }]

/** Every valid frame, each with each field removed, and each field replaced by each wrong value. */
function corpus(): string[] {
  const out: string[] = ['{nope', '[]', '"msg"', 'null', '{"t":1}', '{"t":"boom"}', '{"t":"hello","v":1,"subs":{}}', '{"t":"toString"}']
  for (const f of valid) {
    out.push(JSON.stringify(f), JSON.stringify({ ...f, extra: 1 }))
    for (const key of Object.keys(f)) {
      if (key === 't') continue
      const { [key]: _, ...rest } = f
      out.push(JSON.stringify(rest))
      for (const w of wrong) out.push(JSON.stringify({ ...f, [key]: w }))
      const inner = f[key]
      if (inner && typeof inner === 'object') {
        for (const k of Object.keys(inner)) for (const w of wrong) out.push(JSON.stringify({ ...f, [key]: { ...inner, [k]: w } }))
      }
    }
  }
  return out
}

describe("decodeServerFrame (the SDK's own, zod-free)", () => {
  it('accepts and refuses exactly what the protocol package does', () => {
    const texts = corpus()
    const disagree = texts.filter((t) => decodeServerFrame(t).ok !== reference(t).ok)
    const accepted = texts.filter((t) => reference(t).ok).length
    console.log(`decode corpus: ${texts.length} frames, ${accepted} valid, ${disagree.length} disagreements`)
    expect(disagree).toEqual([])
    expect(accepted).toBeGreaterThan(valid.length)
  })

  it('names what was wrong, and never throws on any input', () => {
    expect(decodeServerFrame('{"t":"msg","topic":"x","offset":0,"epoch":"e","data":1}')).toEqual({ ok: false, message: 'msg.offset is missing or invalid' })
    expect(decodeServerFrame(new ArrayBuffer(2))).toMatchObject({ ok: false, message: expect.stringContaining('binary') })
    for (const t of [undefined, null, 12, '', '{"t":"msg","__proto__":{"topic":"x"}}']) expect(decodeServerFrame(t).ok).toBe(false)
  })
})
