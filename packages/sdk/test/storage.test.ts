import { describe, expect, it } from 'vitest'
import { newEntry } from '../src/outbox.js'
import { load, memoryStorage, saveOutbox, saveSession } from '../src/storage.js'
import type { StorageLike } from '../src/types.js'

describe('storage', () => {
  it('round-trips the session and the outbox (seq = transmitted flag, topic, data)', () => {
    const s = memoryStorage()
    const a = newEntry('chat', '{"text":"hé"}')
    a.seq = 4
    const b = newEntry(undefined, '[1,2]')
    saveSession(s, 'k', 'sid1', 'tok', { chat: { offset: 9, epoch: 'e' } })
    saveOutbox(s, 'k', [a, b], 6)
    const r = load(s, 'k')
    expect(r).toMatchObject({ sessionId: 'sid1', token: 'tok', positions: { chat: { offset: 9, epoch: 'e' } }, lastSeq: 6 })
    expect(r.outbox.map((e) => [e.topic, e.json, e.seq, e.bytes])).toEqual([
      ['chat', '{"text":"hé"}', 4, a.bytes],
      [undefined, '[1,2]', 0, b.bytes],
    ])
    // An empty outbox still keeps lastSeq: a reload must tell the server how far this client's writes went.
    saveOutbox(s, 'k', [], 6)
    expect(load(s, 'k')).toMatchObject({ outbox: [], lastSeq: 6 })
  })

  it('ignores garbage and a storage that throws, instead of failing the app', () => {
    const s = memoryStorage()
    s.setItem('k:session', '{not json')
    s.setItem('k:outbox', '{"seq":1,"e":[{"s":"x"}]}')
    expect(load(s, 'k')).toEqual({ sessionId: null, token: undefined, positions: {}, outbox: [], lastSeq: 0 })
    s.setItem('k:session', JSON.stringify({ sid: 1, token: 'x', positions: { a: { offset: 'x', epoch: 'e' }, b: null } }))
    expect(load(s, 'k')).toEqual({ sessionId: null, token: undefined, positions: {}, outbox: [], lastSeq: 0 })
    const broken: StorageLike = {
      getItem: () => {
        throw new Error('SecurityError')
      },
      setItem: () => {
        throw new Error('QuotaExceededError')
      },
      removeItem: () => {
        throw new Error('SecurityError')
      },
    }
    expect(load(broken, 'k').outbox).toEqual([])
    expect(() => saveSession(broken, 'k', 's', 't', {})).not.toThrow()
    expect(() => saveOutbox(broken, 'k', [], 0)).not.toThrow()
  })
})
