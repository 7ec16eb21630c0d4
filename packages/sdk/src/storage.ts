/**
 * Persistence for reload survival: the session (id, token, positions) and the outbox, under two keys so that
 * saving a position after each message does not re-serialise a large outbox. Best effort: a storage that
 * throws (quota, private mode) or holds garbage never breaks the client; it then behaves as without persist.
 */
import type { Position } from '@lifeline/protocol'
import { isEpoch, isOffset } from './decode.js'
import { newEntry, type Entry } from './outbox.js'
import type { StorageLike } from './types.js'

export interface Restored {
  sessionId: string | null
  token: string | undefined
  positions: Record<string, Position>
  outbox: Entry[]
  /** The highest seq the stored session had assigned (0 when unknown). */
  lastSeq: number
}

/** A storage held in memory: survives a client being replaced in the same process (tests, SSR, workers). */
export function memoryStorage(): StorageLike {
  const m = new Map<string, string>()
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, String(v)),
    removeItem: (k) => void m.delete(k),
  }
}

export function load(storage: StorageLike, key: string): Restored {
  const s = read(storage, `${key}:session`) as { sid?: unknown; token?: unknown; positions?: unknown } | undefined
  const o = read(storage, `${key}:outbox`) as { seq?: unknown; e?: unknown } | undefined
  // Topic names are keys here and `__proto__` is a valid topic: no prototype, so it stays a plain key.
  const r: Restored = { sessionId: null, token: undefined, positions: Object.create(null) as Record<string, Position>, outbox: [], lastSeq: 0 }
  // Only values the server would accept in `hello`: a stored value it refuses would fail every connection.
  if (s && typeof s.sid === 'string' && typeof s.token === 'string' && s.token.length <= 512) (r.sessionId = s.sid), (r.token = s.token)
  if (s && typeof s.positions === 'object' && s.positions) {
    for (const [t, p] of Object.entries(s.positions as Record<string, Partial<Position> | null>)) {
      if (isOffset(p?.offset, 0) && isEpoch(p?.epoch)) r.positions[t] = { offset: p.offset, epoch: p.epoch }
    }
  }
  if (o && isOffset(o.seq, 0) && Array.isArray(o.e)) {
    const entries: Entry[] = []
    for (const x of o.e as { s?: unknown; t?: unknown; d?: unknown }[]) {
      if (!x || !isOffset(x.s, 0) || !('d' in x) || (x.t !== undefined && typeof x.t !== 'string')) return r
      const e = newEntry(x.t as string | undefined, JSON.stringify(x.d))
      e.seq = x.s
      entries.push(e)
    }
    r.outbox = entries
    r.lastSeq = Math.max(o.seq, ...entries.map((e) => e.seq))
  }
  return r
}

export function saveSession(storage: StorageLike, key: string, sid: string | null, token: string | undefined, positions: Record<string, Position>): void {
  write(storage, `${key}:session`, JSON.stringify({ sid, token, positions }))
}

/**
 * The outbox and the highest seq assigned (`lastSeq`), saved before any of those seqs is written to a socket,
 * so a reload resumes with exactly what this client had sent.
 */
export function saveOutbox(storage: StorageLike, key: string, entries: Entry[], lastSeq: number): void {
  // Built by hand: each entry's data is already JSON text, so it is embedded rather than escaped twice.
  const items = entries.map((e) => `{"s":${e.seq},${e.topic === undefined ? '' : `"t":${JSON.stringify(e.topic)},`}"d":${e.json}}`)
  write(storage, `${key}:outbox`, `{"seq":${lastSeq},"e":[${items.join(',')}]}`)
}

function read(storage: StorageLike, k: string): unknown {
  try {
    const text = storage.getItem(k)
    return text === null ? undefined : (JSON.parse(text) as unknown)
  } catch {
    return undefined
  }
}

function write(storage: StorageLike, k: string, v: string): void {
  try {
    storage.setItem(k, v)
  } catch {
    // Quota or private mode: keep running without persistence rather than fail the app's call.
  }
}
