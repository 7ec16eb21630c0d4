/**
 * The session's data half of the core: token, outbox (seq), positions (dedup), subscriptions. It handles the
 * session frames (welcome, ack, subscribed, msg, error) and the app's calls, appending effects to the shared
 * sink. It never opens, closes or times anything: core.ts owns the connection and tells it whether it is open.
 */
import { ErrorCode, INBOX_TOPIC, PROTOCOL_VERSION } from '@lifeline/protocol'
import type { ErrorFrame, Hello, Msg, Subscribed, Welcome } from '@lifeline/protocol'
import type { Sink } from './effects.js'
import { LifelineError } from './errors.js'
import type { Resolved } from './options.js'
import { frameText, newEntry, Outbox } from './outbox.js'
import { Positions } from './positions.js'
import type { Restored } from './storage.js'
import type { SchemaLike } from './types.js'

const TOPIC_RE = /^[\w.:/-]{1,256}$/

export class Session<T> {
  sessionId: string | null
  token: string | undefined
  readonly outbox: Outbox
  readonly positions: Positions
  /** Topics the app wants; '@inbox' always. */
  readonly desired = new Set<string>([INBOX_TOPIC])
  /** Topics whose subscription the server has confirmed at least once. */
  private readonly active = new Set<string>()
  /** Topics the server knows of on the current connection (sent in hello or sub). */
  private told = new Set<string>()
  private resumeAsked = false

  constructor(
    private readonly sink: Sink<T>,
    private readonly o: Resolved<T>,
    restored?: Restored,
  ) {
    this.sessionId = restored?.sessionId ?? null
    this.token = restored?.token
    this.positions = new Positions(restored?.positions)
    this.outbox = new Outbox(o.outbox)
    for (const e of restored?.outbox ?? []) this.outbox.entries.push(e), (this.outbox.bytes += e.bytes)
  }

  /** The first frame of a connection: resume token (if any) and every topic with its position. */
  hello(): Hello {
    this.resumeAsked = this.token !== undefined
    this.told = new Set(this.desired)
    const subs = this.positions.subs(this.desired)
    return this.token === undefined ? { t: 'hello', v: PROTOCOL_VERSION, subs } : { t: 'hello', v: PROTOCOL_VERSION, resume: { token: this.token }, subs }
  }

  /** After `welcome` (the core has just marked the connection open). */
  welcome(f: Welcome): void {
    const s = this.sink
    if (this.resumeAsked && !f.resumed) this.gone()
    this.sessionId = f.session.id
    this.token = f.session.token
    // Everything above `acked` is known not applied: renumber it from acked + 1 and send it again, in order.
    const { done, send } = this.outbox.renumber(f.acked)
    s.settleAll(done)
    s.persist('session')
    s.persist('outbox')
    for (const t of this.desired) if (!this.told.has(t)) this.sendSub(t)
    for (const t of this.told) if (!this.desired.has(t)) this.told.delete(t), s.write({ t: 'unsub', topic: t })
    for (const e of send) s.effect({ type: 'write', text: frameText(e) })
  }

  /** The session no longer exists on the server (welcome.resumed false, or close 4403). */
  gone(): void {
    const s = this.sink
    const lost = this.outbox.reset()
    const error = new LifelineError(ErrorCode.SESSION_RESET, 'the session expired on the server; this send may or may not have been applied')
    for (const e of lost) s.settle(e, error)
    this.positions.delete(INBOX_TOPIC) // a new session has a new inbox
    this.token = undefined
    this.sessionId = null
    this.resumeAsked = false
    s.persist('session')
    s.persist('outbox')
    s.emit('reset', { unconfirmed: lost.map((e) => (e.topic === undefined ? { data: JSON.parse(e.json) as unknown } : { topic: e.topic, data: JSON.parse(e.json) as unknown })) })
  }

  ack(seq: number): void {
    this.sink.settleAll(this.outbox.ack(seq))
  }

  error(f: ErrorFrame): void {
    const s = this.sink
    const error = new LifelineError(f.code as ErrorCode, f.message, f.topic === undefined ? undefined : { topic: f.topic })
    if (f.seq !== undefined) {
      // STORE_UNAVAILABLE: not applied, seq not consumed; the entry stays and is resent after the next welcome.
      const e = f.code === ErrorCode.STORE_UNAVAILABLE ? undefined : this.outbox.refuse(f.seq)
      if (e) s.settle(e, error), s.persist('outbox')
    } else if (f.topic !== undefined && f.topic !== INBOX_TOPIC && this.desired.has(f.topic) && !this.active.has(f.topic)) {
      this.desired.delete(f.topic)
      this.told.delete(f.topic)
      s.effect({ type: 'subscribed', topic: f.topic, error })
    }
    s.emit('error', error)
  }

  subscribed(f: Subscribed): void {
    if (!this.desired.has(f.topic)) return
    const gap = this.positions.subscribed(f)
    this.active.add(f.topic)
    this.sink.persist('session')
    if (gap) this.sink.emit('gap', gap)
    this.sink.effect({ type: 'subscribed', topic: f.topic })
  }

  /** Deliver, drop, or return why the stream is out of step (the core then resyncs by reconnecting). */
  msg(f: Msg): string | undefined {
    const s = this.sink
    if (!this.desired.has(f.topic)) return
    const verdict = this.positions.check(f.topic, f.offset, f.epoch)
    if (verdict === 'resync') {
      const at = this.positions.map.get(f.topic)
      return `resync ${f.topic}: got ${f.epoch}/${f.offset} at ${at?.epoch}/${at?.offset}`
    }
    if (verdict !== 'deliver') return // duplicate of a delivered offset, or before our starting point
    this.positions.advance(f.topic, f.offset)
    s.persist('session')
    const base = { topic: f.topic, offset: f.offset, epoch: f.epoch }
    const r = this.o.schema ? safeParse(this.o.schema, f.data) : { success: true as const, data: f.data as T }
    if (r.success) s.emit('message', { ...base, data: r.data })
    else {
      const msg = `message ${f.topic}/${f.offset} failed the schema and was skipped: ${String(r.error ?? 'invalid')}`
      s.emit('error', new LifelineError(ErrorCode.INVALID_DATA, msg, { topic: f.topic }))
    }
    return undefined
  }

  /** publish (topic set) or send. `closed`: the code to refuse with when the client is closed. */
  publish(topic: string | undefined, data: unknown, ticket: unknown, open: boolean, closed?: ErrorCode): void {
    const s = this.sink
    const refuse = (code: ErrorCode, message: string) => s.effect({ type: 'settle', ticket, error: new LifelineError(code, message) })
    if (closed) return refuse(closed, 'the client is closed')
    // Only the server writes an inbox (ctx.reply), so publishing to it is refused here rather than by a round trip.
    const bad = topic === undefined ? undefined : topic === INBOX_TOPIC ? ErrorCode.RESERVED_TOPIC : topicError(topic)
    if (bad) return refuse(bad, `cannot publish to ${JSON.stringify(topic)}: ${bad === ErrorCode.RESERVED_TOPIC ? 'reserved' : 'topics are 1-256 of A-Z a-z 0-9 _ . : / -'}`)
    let json: string | undefined
    try {
      json = JSON.stringify(data)
    } catch (e) {
      return refuse(ErrorCode.NOT_SERIALIZABLE, `data cannot be encoded as JSON: ${(e as Error).message}`)
    }
    if (json === undefined) return refuse(ErrorCode.NOT_SERIALIZABLE, `data cannot be encoded as JSON (${typeof data})`)
    const r = this.outbox.add(newEntry(topic, json, ticket))
    if (!r.ok) return refuse(ErrorCode.OUTBOX_FULL, r.message)
    const dropped = new LifelineError(ErrorCode.OUTBOX_DROPPED, 'dropped from a full outbox for a newer message (overflow: drop-oldest)')
    for (const d of r.dropped) s.settle(d, dropped)
    const fresh = open ? this.outbox.assign() : []
    s.persist('outbox') // before the write: a reload must find the seq it was sent with
    for (const x of fresh) s.effect({ type: 'write', text: frameText(x) })
  }

  subscribe(topic: string, open: boolean, closed?: ErrorCode): void {
    const fail = (code: ErrorCode, m: string) => this.sink.effect({ type: 'subscribed', topic, error: new LifelineError(code, m, { topic }) })
    const bad = topicError(topic)
    if (bad) return fail(bad, `cannot subscribe to ${JSON.stringify(topic)}: not a valid topic name`)
    if (closed) return fail(closed, 'the client is closed')
    if (this.active.has(topic)) return this.sink.effect({ type: 'subscribed', topic })
    this.desired.add(topic)
    if (open && !this.told.has(topic)) this.sendSub(topic)
  }

  unsubscribe(topic: string, open: boolean): void {
    if (topic === INBOX_TOPIC || !this.desired.has(topic)) return
    this.desired.delete(topic)
    this.active.delete(topic)
    this.positions.delete(topic)
    this.sink.persist('session')
    this.sink.effect({ type: 'subscribed', topic }) // a subscribe still waiting has nothing left to wait for
    if (open && this.told.delete(topic)) this.sink.write({ t: 'unsub', topic })
  }

  /** The client stops (close() or refused): settle everything pending. Storage keeps the outbox, so the next
   * client on the same storage delivers it, exactly once, as after a reload. */
  shutDown(error: LifelineError): void {
    for (const e of this.outbox.clear()) this.sink.settle(e, error)
    for (const t of this.desired) if (!this.active.has(t)) this.sink.effect({ type: 'subscribed', topic: t, error })
  }

  private sendSub(topic: string): void {
    this.told.add(topic)
    const from = this.positions.map.get(topic)
    this.sink.write(from ? { t: 'sub', topic, from: { offset: from.offset, epoch: from.epoch } } : { t: 'sub', topic })
  }
}

/** A schema that throws (a bug in a refinement) counts as a failed check, not as a crash inside the client. */
function safeParse<T>(schema: SchemaLike<T>, data: unknown): ReturnType<SchemaLike<T>['safeParse']> {
  try {
    return schema.safeParse(data)
  } catch (error) {
    return { success: false, error }
  }
}

/** Checked here so a bad name fails the one call, not the whole `hello` (the server would close on it). */
function topicError(topic: string): ErrorCode | undefined {
  if (topic === INBOX_TOPIC || (typeof topic === 'string' && TOPIC_RE.test(topic))) return undefined
  return typeof topic === 'string' && topic.startsWith('@') ? ErrorCode.RESERVED_TOPIC : ErrorCode.BAD_FRAME
}
