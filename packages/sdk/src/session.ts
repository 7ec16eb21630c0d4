/**
 * The session's data half of the core: token, outbox (seq), positions (dedup), subscriptions. It handles the
 * session frames (welcome, ack, subscribed, msg, error) and the app's calls, appending effects to the shared
 * sink. It never opens, closes or times anything: core.ts owns the connection and tells it whether it is open.
 */
import { DEFAULT_LIMITS, ErrorCode, INBOX_TOPIC, isReservedTopic, jsonDepthExceeds, MAX_DATA_DEPTH, PROTOCOL_VERSION } from '@lifeline/protocol'
import type { ErrorFrame, From, Hello, Msg, Presence, Subscribed, Welcome } from '@lifeline/protocol'
import type { Sink } from './effects.js'
import { aborted, LifelineError } from './errors.js'
import type { ResolvedOptions } from './options.js'
import { frameBytes, frameText, newEntry, Outbox, type Entry } from './outbox.js'
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
  /**
   * Where a subscription with no position starts ('earliest', or an offset without an epoch), until the server
   * placed it (`subscribed.after`): sent in every hello and sub until then, so a reconnect asks again.
   */
  private readonly starts = new Map<string, From>()
  /** Topics subscribed with `{ presence: true }`: the server sends their `presence` events. */
  private readonly watched = new Set<string>()
  private resumeAsked = false
  /**
   * This client object's id in `hello.instance`: random, made once, never persisted, so a copy of the persisted
   * state (a duplicated tab) is another instance while this client retrying its own resume is the same one.
   */
  private readonly instance: string
  /** Connection attempts of this client object (`hello.attempt`): a late hello of an older one claims nothing. */
  private attempt = 0
  /** The server's limits, from the last `welcome` (until then the protocol's defaults). */
  private maxFrameBytes: number = DEFAULT_LIMITS.maxFrameBytes
  private maxSubscriptions: number = DEFAULT_LIMITS.maxSubscriptions
  /** Lowered by a close 1009 below the frame that caused it, whatever the next welcome says: never resend it. */
  private tooBigCap = Infinity

  constructor(
    private readonly sink: Sink<T>,
    private readonly o: ResolvedOptions<T>,
    restored?: Restored,
  ) {
    this.sessionId = restored?.sessionId ?? null
    this.token = restored?.token
    this.positions = new Positions(restored?.positions)
    this.outbox = new Outbox(o.outbox)
    for (const e of restored?.outbox ?? []) this.outbox.entries.push(e), (this.outbox.bytes += e.bytes)
    this.outbox.lastSeq = restored?.lastSeq ?? 0
    this.instance = Math.floor(o.random() * 2 ** 52).toString(36) + Math.floor(o.random() * 2 ** 52).toString(36)
  }

  /** The first frame of a connection: resume token (if any) and every topic with its position. */
  /** `token`: the user's JWT, when the `token` option gave one. */
  hello(token?: string): Hello {
    this.resumeAsked = this.token !== undefined
    this.told = new Set(this.desired)
    const hello: Hello = { t: 'hello', v: PROTOCOL_VERSION, instance: this.instance, attempt: ++this.attempt, subs: this.positions.subs(this.desired) }
    for (const [t, from] of this.starts) hello.subs[t] = from
    if (this.token !== undefined) hello.resume = { token: this.token, lastSeq: this.outbox.lastSeq }
    if (token !== undefined) hello.token = token
    const watch = [...this.watched].filter((t) => this.desired.has(t))
    if (watch.length) hello.presence = watch
    return hello
  }

  /** After `welcome` (the core has just marked the connection open). */
  welcome(f: Welcome): void {
    const s = this.sink
    if (this.resumeAsked && !f.resumed) this.reset(f.reset === 'taken' ? 'taken' : 'expired')
    this.sessionId = f.session.id
    this.token = f.session.token
    this.maxFrameBytes = f.maxFrameBytes ?? DEFAULT_LIMITS.maxFrameBytes
    this.maxSubscriptions = f.maxSubscriptions ?? DEFAULT_LIMITS.maxSubscriptions
    const done = this.outbox.ack(f.acked)
    // Never (re)send what this server would close 1009 on: refuse it at once, before seqs are renumbered.
    for (const e of this.outbox.entries.filter((x) => frameBytes(x) > this.frameLimit())) {
      this.outbox.remove(e)
      s.settle(e, this.tooBig(e))
    }
    // Everything above `acked` is known not applied: renumber it from acked + 1 and send it again, in order.
    const { send } = this.outbox.renumber(f.acked)
    s.settleAll(done)
    s.persist('session')
    s.persist('outbox')
    for (const t of this.desired) if (!this.told.has(t)) this.sendSub(t)
    for (const t of this.told) if (!this.desired.has(t)) this.told.delete(t), s.write({ t: 'unsub', topic: t })
    for (const e of send) s.effect({ type: 'write', text: frameText(e) })
  }

  /**
   * The session no longer exists for this client: `expired` (welcome.resumed false, or close 4403), or `taken`
   * (another client resumed it from a copy of this client's persisted state). After `expired`, sends that were
   * written to a socket, or restored from storage (a copy of it may send them too), have an unknown fate, and
   * this client's own never-sent ones go to the new session. After `taken`, every pending
   * send has an unknown fate: the copy holds them too and may deliver them, so none is sent again.
   */
  reset(reason: 'expired' | 'taken'): void {
    const s = this.sink
    const taken = reason === 'taken'
    const unconfirmed = taken ? this.outbox.clear() : this.outbox.takeUnconfirmed()
    this.outbox.lastSeq = 0
    const error = taken
      ? new LifelineError(ErrorCode.SESSION_TAKEN, 'another client resumed this session from a copy of its persisted state (a duplicated tab?); this send may or may not be applied by it')
      : new LifelineError(ErrorCode.SESSION_RESET, 'the session expired on the server; this send may or may not have been applied')
    for (const e of unconfirmed) s.settle(e, error)
    this.positions.delete(INBOX_TOPIC) // a new session has a new inbox
    this.token = undefined
    this.sessionId = null
    this.resumeAsked = false
    s.persist('session')
    s.persist('outbox')
    if (taken) s.emit('error', new LifelineError(ErrorCode.SESSION_TAKEN, `session taken over by another client; starting a new one (${unconfirmed.length} sends unconfirmed)`))
    s.emit('reset', { reason, unconfirmed: unconfirmed.map((e) => (e.topic === undefined ? { data: JSON.parse(e.json) as unknown } : { topic: e.topic, data: JSON.parse(e.json) as unknown })) })
  }

  /** Close 1009: a frame of ours was too big for the server. The culprit is the largest one it had not acked. */
  tooBigClose(): void {
    let largest = 0
    for (const e of this.outbox.entries) if (e.seq !== 0) largest = Math.max(largest, frameBytes(e))
    if (largest > 0) this.tooBigCap = Math.min(this.tooBigCap, largest - 1)
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
    } else if (f.topic !== undefined && f.topic !== INBOX_TOPIC && this.desired.has(f.topic)) {
      // A refused subscribe is dropped; so is an active one the server no longer has room for (a node with a
      // lower limit than the last one), or every hello would ask for it again.
      if (this.active.has(f.topic) && f.code !== ErrorCode.TOO_MANY_SUBSCRIPTIONS) return s.emit('error', error)
      this.desired.delete(f.topic)
      this.active.delete(f.topic)
      this.told.delete(f.topic)
      s.effect({ type: 'subscribed', topic: f.topic, error })
    }
    s.emit('error', error)
  }

  /** A `presence` frame: an event, for a topic still wanted with presence. */
  presence(f: Presence): void {
    if (this.watched.has(f.topic)) this.sink.emit('presence', { topic: f.topic, user: f.user, joined: f.joined })
  }

  subscribed(f: Subscribed): void {
    if (!this.desired.has(f.topic)) return
    this.starts.delete(f.topic)
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
    const base = { topic: f.topic, offset: f.offset, epoch: f.epoch, ...(f.from !== undefined ? { from: f.from } : {}) }
    const r = this.o.schema ? safeParse(this.o.schema, f.data) : { success: true as const, data: f.data as T }
    if (r.success) s.emit('message', { ...base, data: r.data })
    else {
      const msg = `message ${f.topic}/${f.offset} failed the schema and was skipped: ${String(r.error ?? 'invalid')}`
      s.emit('error', new LifelineError(ErrorCode.INVALID_DATA, msg, { topic: f.topic }))
    }
    return undefined
  }

  /**
   * A publish (topic set) or a send: checked, then queued in the outbox (and written at once while open).
   * `closed`: the code to refuse with when the client is closed.
   */
  enqueue(topic: string | undefined, data: unknown, ticket: unknown, open: boolean, closed?: ErrorCode): void {
    const s = this.sink
    const settle = (error: LifelineError) => s.effect({ type: 'settle', ticket, error })
    const refuse = (code: ErrorCode, message: string) => settle(new LifelineError(code, message))
    if (closed) return refuse(closed, 'the client is closed')
    // Only the server writes an inbox (ctx.reply), so publishing to it is refused here rather than by a round trip.
    const bad = topic === undefined ? undefined : topic === INBOX_TOPIC ? ErrorCode.RESERVED_TOPIC : topicError(topic)
    if (bad) return refuse(bad, `cannot publish to ${JSON.stringify(topic)}: ${bad === ErrorCode.RESERVED_TOPIC ? 'reserved' : 'topics are 1-256 of A-Z a-z 0-9 _ . : / -'}`)
    let json: string | undefined
    try {
      json = JSON.stringify(data)
    } catch (e) {
      const why = String((e as Error)?.message)
      // A value so deep that encoding it exhausts the stack is too deep, whatever the engine calls that.
      if (/stack|recursion/i.test(why)) return refuse(ErrorCode.DATA_TOO_DEEP, `data nests arrays/objects deeper than ${MAX_DATA_DEPTH} levels`)
      return refuse(ErrorCode.NOT_SERIALIZABLE, `data cannot be encoded as JSON: ${why}`)
    }
    if (json === undefined) return refuse(ErrorCode.NOT_SERIALIZABLE, `data cannot be encoded as JSON (${typeof data})`)
    if (jsonDepthExceeds(json, MAX_DATA_DEPTH)) return refuse(ErrorCode.DATA_TOO_DEEP, `data nests arrays/objects deeper than ${MAX_DATA_DEPTH} levels`)
    const entry = newEntry(topic, json, ticket)
    if (frameBytes(entry) > this.frameLimit()) return settle(this.tooBig(entry))
    const r = this.outbox.add(entry)
    if (!r.ok) return refuse(ErrorCode.OUTBOX_FULL, r.message)
    const dropped = new LifelineError(ErrorCode.OUTBOX_DROPPED, 'dropped from a full outbox for a newer message (overflow: drop-oldest)')
    for (const d of r.dropped) s.settle(d, dropped)
    const fresh = open ? this.outbox.assign() : []
    s.persist('outbox') // before the write: a reload must find the seq it was sent with
    for (const x of fresh) s.effect({ type: 'write', text: frameText(x) })
  }

  /** `from`/`epoch`: SubscribeOptions, for a topic not subscribed yet (a subscription under way keeps its start). */
  subscribe(topic: string, open: boolean, closed?: ErrorCode, from?: unknown, epoch?: unknown, presence?: boolean): void {
    const fail = (code: ErrorCode, m: string) => this.sink.effect({ type: 'subscribed', topic, error: new LifelineError(code, m, { topic }) })
    const bad = topicError(topic)
    if (bad) return fail(bad, `cannot subscribe to ${JSON.stringify(topic)}: not a valid topic name`)
    const offset = isOffset(from, 1)
    if ((from !== undefined && from !== 'latest' && !isFrom(from)) || (epoch !== undefined && !(offset && typeof epoch === 'string' && epoch.length > 0 && epoch.length <= 64))) {
      return fail(ErrorCode.BAD_FRAME, `subscribe(${JSON.stringify(topic)}): from must be 'latest', 'earliest' or an offset >= 1, epoch (only with an offset) 1-64 characters`)
    }
    if (closed) return fail(closed, 'the client is closed')
    if (presence && !this.watched.has(topic)) {
      this.watched.add(topic)
      // Already told without presence: tell again with it (the server re-places the subscription at our position).
      if (open && this.told.has(topic)) this.sendSub(topic)
    }
    if (this.active.has(topic)) return this.sink.effect({ type: 'subscribed', topic })
    // @inbox is always desired and does not count against the server's limit.
    if (!this.desired.has(topic) && this.desired.size - 1 >= this.maxSubscriptions) {
      return fail(ErrorCode.TOO_MANY_SUBSCRIPTIONS, `cannot subscribe to ${JSON.stringify(topic)}: the server allows ${this.maxSubscriptions} topics per connection; unsubscribe one first`)
    }
    if (!this.desired.has(topic) && (from === 'earliest' || offset)) {
      // The app asked where to start: that wins over a position restored from `persist` (a reloaded page that
      // asks for 'earliest' wants the log again, its screen is empty). Offsets name the last one delivered.
      this.positions.delete(topic)
      this.starts.delete(topic)
      if (offset && epoch !== undefined) this.positions.map.set(topic, { offset: (from as number) - 1, epoch: epoch as string })
      else this.starts.set(topic, offset ? { offset: (from as number) - 1 } : 'earliest')
    }
    this.desired.add(topic)
    if (open && !this.told.has(topic)) this.sendSub(topic)
  }

  unsubscribe(topic: string, open: boolean): void {
    if (topic === INBOX_TOPIC || !this.desired.has(topic)) return
    this.desired.delete(topic)
    this.active.delete(topic)
    this.positions.delete(topic)
    this.starts.delete(topic)
    this.watched.delete(topic)
    this.sink.persist('session')
    this.sink.effect({ type: 'subscribed', topic }) // a subscribe still waiting has nothing left to wait for
    if (open && this.told.delete(topic)) this.sink.write({ t: 'unsub', topic })
  }

  /**
   * A publish/send's signal aborted: one never written to a socket leaves the outbox and rejects ABORTED. One
   * already written may be applied: it stays, and its promise settles as the server decides.
   */
  abort(ticket: unknown): void {
    const e = this.outbox.entries.find((x) => x.ticket === ticket)
    if (!e || e.seq !== 0) return
    this.outbox.remove(e)
    this.sink.settle(e, aborted())
    this.sink.persist('outbox')
  }

  /** The client stops (close() or refused): settle everything pending. Storage keeps the outbox, so the next
   * client on the same storage delivers it, exactly once, as after a reload. */
  shutDown(error: LifelineError): void {
    for (const e of this.outbox.clear()) this.sink.settle(e, error)
    for (const t of this.desired) if (!this.active.has(t)) this.sink.effect({ type: 'subscribed', topic: t, error })
  }

  private frameLimit(): number {
    return Math.min(this.maxFrameBytes, this.tooBigCap)
  }

  private tooBig(e: Entry): LifelineError {
    return new LifelineError(ErrorCode.MESSAGE_TOO_BIG, `message is ${frameBytes(e)} bytes as a frame, over the server's limit of ${this.frameLimit()} (maxFrameBytes); it was not sent`)
  }

  private sendSub(topic: string): void {
    this.told.add(topic)
    const p = this.positions.map.get(topic)
    const from = p ? { offset: p.offset, epoch: p.epoch } : this.starts.get(topic)
    this.sink.write({ t: 'sub', topic, ...(from ? { from } : {}), ...(this.watched.has(topic) ? { presence: true } : {}) })
  }
}

export const isOffset = (v: unknown, min: number): v is number => Number.isSafeInteger(v) && (v as number) >= min
/** `from` of subscribe() and history(): 'earliest' or an offset (subscribe also takes 'latest'). */
export const isFrom = (v: unknown): boolean => v === 'earliest' || isOffset(v, 1)

/** A schema that throws (a bug in a refinement) counts as a failed check, not as a crash inside the client. */
export function safeParse<T>(schema: SchemaLike<T>, data: unknown): ReturnType<SchemaLike<T>['safeParse']> {
  try {
    return schema.safeParse(data)
  } catch (error) {
    return { success: false, error }
  }
}

/** Checked here so a bad name fails the one call, not the whole `hello` (the server would close on it). */
export function topicError(topic: string): ErrorCode | undefined {
  if (topic === INBOX_TOPIC || (typeof topic === 'string' && TOPIC_RE.test(topic))) return undefined
  return typeof topic === 'string' && isReservedTopic(topic) ? ErrorCode.RESERVED_TOPIC : ErrorCode.BAD_FRAME
}
