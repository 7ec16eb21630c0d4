/**
 * The outbox: every publish/send from the moment the app calls it until the server acknowledges it. Pure data
 * (no socket, no timer).
 *
 * Seq rule (the server applies `seq` strictly in order, acked + 1 only, and a resumed session fences the old
 * connection off): after `welcome`, every entry with seq > acked is known NOT applied, so all of them are
 * renumbered acked+1, acked+2, … and sent again. That keeps "from 1, no holes" true even after entries were
 * dropped, refused or forgotten, and it needs no persisted counter. `seq` 0 means "never written to a socket":
 * only those may be dropped (a transmitted one may already be applied) and they are what a session reset keeps.
 */
export type Overflow = 'reject' | 'drop-oldest'

export interface OutboxLimits {
  maxMessages: number
  maxBytes: number
  overflow: Overflow
}

export interface Entry {
  /** The caller's handle for settling its promise; absent for entries restored from storage. */
  ticket?: unknown
  /** `topic` set: a publish; absent: a send to the server's handler. */
  topic?: string
  /** The data as JSON text, frozen at call time so later mutation by the app changes nothing. */
  json: string
  /** UTF-8 bytes of json + topic, counted against maxBytes. */
  bytes: number
  /** 0 until first written to a socket; then fixed for the life of the session. */
  seq: number
}

export type AddResult = { ok: true; dropped: Entry[] } | { ok: false; message: string }

const utf8 = new TextEncoder()

export function newEntry(topic: string | undefined, json: string, ticket?: unknown): Entry {
  return { ticket, topic, json, bytes: utf8.encode(json + (topic ?? '')).length, seq: 0 }
}

/**
 * The most bytes an entry's frame can take on the wire: `e.bytes` plus the envelope (`{"t":"pub","seq":…,
 * "topic":"…","data":…}` is 33 bytes and the seq's digits, at most 16). Topics need no JSON escaping (their
 * alphabet is [\w.:/-]), so this is exact up to the seq's digits, which it counts at their maximum.
 */
export function frameBytes(e: Entry): number {
  return e.bytes + 49
}

/** Why a message can never be sent: its size over a limit (outbox.maxBytes, or the server's maxFrameBytes). */
export const overLimit = (bytes: number, limit: string, max: number): string => `message is ${bytes} bytes, over ${limit} (${max}); it was not sent`

/** An entry as the app sees it again (a `reset`'s unconfirmed sends, a refused restored one): topic and data. */
export function sent(e: Entry): { topic?: string; data: unknown } {
  const data: unknown = JSON.parse(e.json)
  return e.topic === undefined ? { data } : { topic: e.topic, data }
}

/** The wire text of an entry (built by hand so the JSON of `data` is not parsed and re-encoded). */
export function frameText(e: Entry): string {
  return e.topic === undefined
    ? `{"t":"send","seq":${e.seq},"data":${e.json}}`
    : `{"t":"pub","seq":${e.seq},"topic":${JSON.stringify(e.topic)},"data":${e.json}}`
}

export class Outbox {
  entries: Entry[] = []
  bytes = 0
  /**
   * Highest seq handed out in this session (persisted: `hello.resume.lastSeq` tells the server how far this
   * client's knowledge of its own writes goes).
   */
  lastSeq = 0

  readonly #limits: OutboxLimits

  constructor(limits: OutboxLimits) {
    this.#limits = limits
  }

  get size(): number {
    return this.entries.length
  }

  /** Add an entry, or refuse it, or (drop-oldest) make room by dropping the oldest never-transmitted ones. */
  add(e: Entry): AddResult {
    const { maxMessages, maxBytes, overflow } = this.#limits
    const fits = (n: number, b: number) => n + 1 <= maxMessages && b + e.bytes <= maxBytes
    if (e.bytes > maxBytes) return { ok: false, message: overLimit(e.bytes, 'outbox.maxBytes', maxBytes) }
    let n = this.entries.length
    let b = this.bytes
    const drop: Entry[] = []
    if (!fits(n, b) && overflow === 'drop-oldest') {
      // Only never-transmitted entries may go: a transmitted one may already be applied on the server.
      for (const old of this.entries) {
        if (fits(n, b)) break
        if (old.seq !== 0) continue
        drop.push(old)
        n--
        b -= old.bytes
      }
    }
    if (!fits(n, b)) {
      return {
        ok: false,
        message:
          `outbox full: ${this.entries.length} messages, ${this.bytes} bytes (limits ${maxMessages}, ${maxBytes}); ` +
          'await pending sends or raise outbox.maxMessages/maxBytes',
      }
    }
    for (const d of drop) this.remove(d)
    this.entries.push(e)
    this.bytes += e.bytes
    return { ok: true, dropped: drop }
  }

  /** Cumulative ack: removes and returns every transmitted entry with seq ≤ `seq`. */
  ack(seq: number): Entry[] {
    let i = 0
    while (i < this.entries.length && this.entries[i]!.seq !== 0 && this.entries[i]!.seq <= seq) i++
    const done = this.entries.splice(0, i)
    for (const d of done) this.bytes -= d.bytes
    return done
  }

  /** The server refused the operation with this seq (its seq is consumed): remove and return it. */
  refuse(seq: number): Entry | undefined {
    const e = this.entries.find((x) => x.seq === seq && seq !== 0)
    if (e) this.remove(e)
    return e
  }

  /** After `welcome`: resolve what is acked, renumber the rest from acked + 1, return them to write in order. */
  renumber(acked: number): { done: Entry[]; send: Entry[] } {
    const done = this.ack(acked)
    this.lastSeq = acked
    for (const e of this.entries) e.seq = ++this.lastSeq
    return { done, send: this.entries.slice() }
  }

  /** While open: give every never-transmitted entry its seq, in order, and return them (written next). */
  assign(): Entry[] {
    const out: Entry[] = []
    for (const e of this.entries) if (e.seq === 0) (e.seq = ++this.lastSeq), out.push(e)
    return out
  }

  /**
   * The session is gone (expired): remove and return the entries whose fate is unknown. Those written to a socket
   * may have been applied; those restored from storage (no ticket) may be held by a copy of the stored state
   * too (a duplicated tab) that sends them itself. The rest, this client's own never-sent calls, stay for the
   * new session.
   */
  takeUnconfirmed(): Entry[] {
    const unconfirmed = this.entries.filter((e) => e.seq !== 0 || e.ticket === undefined)
    for (const e of unconfirmed) this.remove(e)
    return unconfirmed
  }


  /** Remove every entry (client closed) and return them. */
  clear(): Entry[] {
    const all = this.entries
    this.entries = []
    this.bytes = 0
    return all
  }

  /** Take one entry out (refused before it was sent). */
  remove(e: Entry): void {
    this.entries.splice(this.entries.indexOf(e), 1)
    this.bytes -= e.bytes
  }
}
