/**
 * The session's data half of the core: token, outbox (seq), positions (dedup), subscriptions. It handles the
 * session frames (welcome, ack, subscribed, msg, error) and the app's calls, appending effects to the shared
 * sink. It never opens, closes or times anything: core.ts owns the connection and tells it whether it is open.
 */
import { DEFAULT_LIMITS, ErrorCode, INBOX_TOPIC, isReservedTopic, jsonDepthExceeds, MAX_DATA_DEPTH, PROTOCOL_VERSION } from '@lifeline/protocol'
import type { ErrorFrame, From, Hello, Msg, Presence, Subscribed, Welcome } from '@lifeline/protocol'
import { isEpoch, isOffset, isTopic } from './decode.js'
import type { Sink } from './effects.js'
import { aborted, CLOSED, LifelineError, refusal, serverError } from './errors.js'
import type { ResolvedOptions } from './options.js'
import { frameBytes, frameText, newEntry, Outbox, overLimit, sent, type Entry } from './outbox.js'
import { Positions } from './positions.js'
import type { Restored } from './storage.js'
import type { SchemaLike } from './types.js'

export class Session<T> {
  // `declare`d fields are set in the constructor: no field definitions for them in the bundle (packages/sdk/README.md, Bundle size).
  declare sessionId: string | null
  declare token: string | undefined
  declare readonly outbox: Outbox
  declare readonly positions: Positions
  /** Topics the app wants; '@inbox' always. */
  readonly desired = new Set<string>([INBOX_TOPIC])
  /** Topics whose subscription the server has confirmed at least once. */
  readonly #active = new Set<string>()
  /** Topics the server knows of on the current connection (sent in hello or sub). */
  #told = new Set<string>()
  /**
   * Where a subscription with no position starts ('earliest', or an offset without an epoch), until the server
   * placed it (`subscribed.after`): sent in every hello and sub until then, so a reconnect asks again.
   */
  readonly #starts = new Map<string, From>()
  /** Topics subscribed with `{ presence: true }`: the server sends their `presence` events. */
  readonly #watched = new Set<string>()
  #resumeAsked = false
  /**
   * This client object's id in `hello.instance`: random, made once, never persisted, so a copy of the persisted
   * state (a duplicated tab) is another instance while this client retrying its own resume is the same one.
   */
  readonly #instance: string
  /** Connection attempts of this client object (`hello.attempt`): a late hello of an older one claims nothing. */
  #attempt = 0
  /** The server's limits, from the last `welcome` (until then the protocol's defaults). */
  #maxFrameBytes: number = DEFAULT_LIMITS.maxFrameBytes
  #maxSubscriptions: number = DEFAULT_LIMITS.maxSubscriptions
  /** Lowered by a close 1009 below the frame that caused it, whatever the next welcome says: never resend it. */
  #tooBigCap = Infinity

  readonly #sink: Sink<T>
  readonly #o: ResolvedOptions<T>

  constructor(sink: Sink<T>, o: ResolvedOptions<T>, restored?: Restored) {
    this.#sink = sink
    this.#o = o
    this.sessionId = restored?.sessionId ?? null
    this.token = restored?.token
    this.positions = new Positions(restored?.positions)
    this.outbox = new Outbox(o.outbox)
    for (const e of restored?.outbox ?? []) this.outbox.entries.push(e), (this.outbox.bytes += e.bytes)
    this.outbox.lastSeq = restored?.lastSeq ?? 0
    const id = () => Math.floor(o.random() * 2 ** 52).toString(36)
    this.#instance = id() + id()
  }

  /**
   * The first frame of a connection: resume token (if any) and every topic with its position. `token`: the
   * user's JWT, when the `token` option gave one. Serialised at once, so undefined fields are simply left out.
   */
  hello(token?: string): Hello {
    this.#resumeAsked = this.token !== undefined
    this.#told = new Set(this.desired)
    const subs: Hello['subs'] = this.positions.subs(this.desired)
    for (const [t, from] of this.#starts) subs[t] = from
    const watch = [...this.#watched].filter((t) => this.desired.has(t))
    return {
      t: 'hello',
      v: PROTOCOL_VERSION,
      instance: this.#instance,
      attempt: ++this.#attempt,
      subs,
      resume: this.#resumeAsked ? { token: this.token!, lastSeq: this.outbox.lastSeq } : undefined,
      token,
      presence: watch.length ? watch : undefined,
    }
  }

  /** After `welcome` (the core has just marked the connection open). */
  welcome(f: Welcome): void {
    const s = this.#sink
    if (this.#resumeAsked && !f.resumed) this.reset(f.reset === 'taken' ? 'taken' : 'expired')
    this.sessionId = f.session.id
    this.token = f.session.token
    this.#maxFrameBytes = f.maxFrameBytes ?? DEFAULT_LIMITS.maxFrameBytes
    this.#maxSubscriptions = f.maxSubscriptions ?? DEFAULT_LIMITS.maxSubscriptions
    const done = this.outbox.ack(f.acked)
    // Never (re)send what this server would close 1009 on: refuse it at once, before seqs are renumbered.
    for (const e of this.outbox.entries.filter((x) => frameBytes(x) > this.#frameLimit())) {
      this.outbox.remove(e)
      s.settle(e, this.#tooBig(e))
    }
    // Everything above `acked` is known not applied: renumber it from acked + 1 and send it again, in order.
    const { send } = this.outbox.renumber(f.acked)
    s.settleAll(done)
    s.persist('session')
    s.persist('outbox')
    for (const t of this.desired) if (!this.#told.has(t)) this.#sendSub(t)
    for (const t of this.#told) if (!this.desired.has(t)) this.#told.delete(t), s.write({ t: 'unsub', topic: t })
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
    const s = this.#sink
    const taken = reason === 'taken'
    const unconfirmed = taken ? this.outbox.clear() : this.outbox.takeUnconfirmed()
    this.outbox.lastSeq = 0
    // After `taken`, the same error rejects each pending send and is the `error` event.
    const error = taken
      ? new LifelineError(ErrorCode.SESSION_TAKEN, 'another client resumed this session from a copy of its stored state (a duplicated tab?) and may apply its pending sends; starting a new session')
      : new LifelineError(ErrorCode.SESSION_RESET, 'the session expired on the server; this send may have been applied')
    for (const e of unconfirmed) s.settle(e, error)
    this.positions.delete(INBOX_TOPIC) // a new session has a new inbox
    this.token = undefined
    this.sessionId = null
    this.#resumeAsked = false
    s.persist('session')
    s.persist('outbox')
    if (taken) s.emit('error', error)
    s.emit('reset', { reason, unconfirmed: unconfirmed.map(sent) })
  }

  /** Close 1009: a frame of ours was too big for the server. The culprit is the largest one it had not acked. */
  tooBigClose(): void {
    let largest = 0
    for (const e of this.outbox.entries) if (e.seq !== 0) largest = Math.max(largest, frameBytes(e))
    if (largest > 0) this.#tooBigCap = Math.min(this.#tooBigCap, largest - 1)
  }

  ack(seq: number): void {
    this.#sink.settleAll(this.outbox.ack(seq))
  }

  error(f: ErrorFrame): void {
    const s = this.#sink
    const error = serverError(f)
    if (f.seq !== undefined) {
      // STORE_UNAVAILABLE: not applied, seq not consumed; the entry stays and is resent after the next welcome.
      const e = f.code === ErrorCode.STORE_UNAVAILABLE ? undefined : this.outbox.refuse(f.seq)
      if (e) s.settle(e, error), s.persist('outbox')
    } else if (f.topic !== undefined && f.topic !== INBOX_TOPIC && this.desired.has(f.topic)) {
      // A refused subscribe is dropped; so is an active one the server no longer has room for (a node with a
      // lower limit than the last one), or every hello would ask for it again.
      if (this.#active.has(f.topic) && f.code !== ErrorCode.TOO_MANY_SUBSCRIPTIONS) return s.emit('error', error)
      this.desired.delete(f.topic)
      this.#active.delete(f.topic)
      this.#told.delete(f.topic)
      s.subscribed(f.topic, error)
    }
    s.emit('error', error)
  }

  /** A `presence` frame: an event, for a topic still wanted with presence. */
  presence(f: Presence): void {
    if (this.#watched.has(f.topic)) this.#sink.emit('presence', { topic: f.topic, user: f.user, joined: f.joined })
  }

  subscribed(f: Subscribed): void {
    if (!this.desired.has(f.topic)) return
    this.#starts.delete(f.topic)
    const gap = this.positions.subscribed(f)
    this.#active.add(f.topic)
    this.#sink.persist('session')
    if (gap) this.#sink.emit('gap', gap)
    this.#sink.subscribed(f.topic)
  }

  /** Deliver, drop, or return why the stream is out of step (the core then resyncs by reconnecting). */
  msg(f: Msg): string | undefined {
    const s = this.#sink
    if (!this.desired.has(f.topic)) return
    const verdict = this.positions.check(f.topic, f.offset, f.epoch)
    if (verdict === 'resync') {
      const at = this.positions.map.get(f.topic)
      return `resync ${f.topic}: ${f.epoch}/${f.offset} after ${at?.epoch}/${at?.offset}`
    }
    if (verdict !== 'deliver') return // duplicate of a delivered offset, or before our starting point
    this.positions.advance(f.topic, f.offset)
    s.persist('session')
    const r = checkData(this.#o.schema, s, f.topic, f.offset, f.data)
    if (r) s.emit('message', { topic: f.topic, offset: f.offset, epoch: f.epoch, ...(f.from !== undefined ? { from: f.from } : {}), data: r.data })
    return undefined
  }

  /**
   * A publish (topic set) or a send: checked, then queued in the outbox (and written at once while open).
   * `closed`: the code to refuse with when the client is closed.
   */
  enqueue(topic: string | undefined, data: unknown, ticket: unknown, open: boolean, closed?: ErrorCode): void {
    const s = this.#sink
    const settle = (error: LifelineError) => s.effect({ type: 'settle', ticket, error })
    const refuse = (code: ErrorCode, message: string) => settle(new LifelineError(code, message))
    if (closed) return refuse(closed, CLOSED)
    // Only the server writes an inbox (ctx.reply), so publishing to it is refused here rather than by a round trip.
    const bad = topic === undefined ? undefined : topicError('publish', topic, true)
    if (bad) return settle(bad)
    let json: string | undefined
    let why = ''
    try {
      json = JSON.stringify(data)
    } catch (e) {
      why = String((e as Error)?.message)
    }
    // A value so deep that encoding it exhausts the stack is too deep, whatever the engine calls that.
    if (/stack|recursion/i.test(why) || (json !== undefined && jsonDepthExceeds(json, MAX_DATA_DEPTH))) {
      return refuse(ErrorCode.DATA_TOO_DEEP, `data nests arrays/objects deeper than ${MAX_DATA_DEPTH} levels`)
    }
    if (json === undefined) return refuse(ErrorCode.NOT_SERIALIZABLE, `data cannot be encoded as JSON: ${why || typeof data}`)
    const entry = newEntry(topic, json, ticket)
    if (frameBytes(entry) > this.#frameLimit()) return settle(this.#tooBig(entry))
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
    const fail = (error: LifelineError) => this.#sink.subscribed(topic, error)
    const bad = topicError('subscribe', topic)
    if (bad) return fail(bad)
    const offset = isOffset(from, 1)
    if ((from !== undefined && from !== 'latest' && from !== 'earliest' && !offset) || (epoch !== undefined && !(offset && isEpoch(epoch)))) {
      return fail(refusal(ErrorCode.BAD_FRAME, 'subscribe', topic, "from must be 'latest', 'earliest' or an offset >= 1; epoch 1-64 characters, with an offset"))
    }
    if (closed) return fail(new LifelineError(closed, CLOSED, { topic }))
    if (presence && !this.#watched.has(topic)) {
      this.#watched.add(topic)
      // Already told without presence: tell again with it (the server re-places the subscription at our position).
      if (open && this.#told.has(topic)) this.#sendSub(topic)
    }
    if (this.#active.has(topic)) return this.#sink.subscribed(topic)
    const fresh = !this.desired.has(topic)
    // @inbox is always desired and does not count against the server's limit.
    if (fresh && this.desired.size - 1 >= this.#maxSubscriptions) {
      return fail(refusal(ErrorCode.TOO_MANY_SUBSCRIPTIONS, 'subscribe', topic, `the server allows ${this.#maxSubscriptions} topics per connection; unsubscribe one first`))
    }
    if (fresh && (from === 'earliest' || offset)) {
      // The app asked where to start: that wins over a position restored from `persist` (a reloaded page that
      // asks for 'earliest' wants the log again, its screen is empty). Offsets name the last one delivered.
      this.positions.delete(topic)
      this.#starts.delete(topic)
      if (offset && epoch !== undefined) this.positions.map.set(topic, { offset: (from as number) - 1, epoch: epoch as string })
      else this.#starts.set(topic, offset ? { offset: (from as number) - 1 } : 'earliest')
    }
    this.desired.add(topic)
    if (open && !this.#told.has(topic)) this.#sendSub(topic)
  }

  unsubscribe(topic: string, open: boolean): void {
    if (topic === INBOX_TOPIC || !this.desired.has(topic)) return
    this.desired.delete(topic)
    this.#active.delete(topic)
    this.positions.delete(topic)
    this.#starts.delete(topic)
    this.#watched.delete(topic)
    this.#sink.persist('session')
    this.#sink.subscribed(topic) // a subscribe still waiting has nothing left to wait for
    if (open && this.#told.delete(topic)) this.#sink.write({ t: 'unsub', topic })
  }

  /**
   * A publish/send's signal aborted: one never written to a socket leaves the outbox and rejects ABORTED. One
   * already written may be applied: it stays, and its promise settles as the server decides.
   */
  abort(ticket: unknown): void {
    const e = this.outbox.entries.find((x) => x.ticket === ticket)
    if (!e || e.seq !== 0) return
    this.outbox.remove(e)
    this.#sink.settle(e, aborted())
    this.#sink.persist('outbox')
  }

  /** The client stops (close() or refused): settle everything pending. Storage keeps the outbox, so the next
   * client on the same storage delivers it, exactly once, as after a reload. */
  shutDown(error: LifelineError): void {
    for (const e of this.outbox.clear()) this.#sink.settle(e, error)
    for (const t of this.desired) if (!this.#active.has(t)) this.#sink.subscribed(t, error)
  }

  #frameLimit(): number {
    return Math.min(this.#maxFrameBytes, this.#tooBigCap)
  }

  #tooBig(e: Entry): LifelineError {
    return new LifelineError(ErrorCode.MESSAGE_TOO_BIG, overLimit(frameBytes(e), "the server's maxFrameBytes", this.#frameLimit()))
  }

  #sendSub(topic: string): void {
    this.#told.add(topic)
    const from = this.positions.map.get(topic) ?? this.#starts.get(topic)
    // Undefined fields are left out by JSON.stringify (the frame is serialised at once).
    this.#sink.write({ t: 'sub', topic, from, presence: this.#watched.has(topic) || undefined })
  }
}

/** `from` of subscribe() and history(): 'earliest' or an offset (subscribe also takes 'latest'). */
export const isFrom = (v: unknown): boolean => v === 'earliest' || isOffset(v, 1)

/**
 * A message's data through the app's `schema`: `{ data }` typed, or undefined after an INVALID_DATA event (the
 * message is skipped, its offset consumed). A schema that throws (a bug in a refinement) counts as a failed
 * check, not as a crash inside the client.
 */
export function checkData<T>(schema: SchemaLike<T> | undefined, sink: Sink<T>, topic: string, offset: number, data: unknown): { data: T } | undefined {
  let r: ReturnType<SchemaLike<T>['safeParse']>
  try {
    r = schema ? schema.safeParse(data) : { success: true, data: data as T }
  } catch (error) {
    r = { success: false, error }
  }
  if (r.success) return r
  sink.emit('error', new LifelineError(ErrorCode.INVALID_DATA, `message ${topic}/${offset} failed the schema and was skipped: ${String(r.error ?? 'invalid')}`, { topic }))
  return undefined
}

/**
 * Checked here so a bad name fails the one call, not the whole `hello` (the server would close on it). Topics
 * starting with @ are reserved; `@inbox` may be subscribed and read, only the server publishes to it.
 */
export function topicError(call: string, topic: string, publish?: boolean): LifelineError | undefined {
  const reserved = typeof topic === 'string' && isReservedTopic(topic) && (publish || topic !== INBOX_TOPIC)
  if (reserved) return refusal(ErrorCode.RESERVED_TOPIC, call, topic, 'topics starting with @ are reserved')
  if (!isTopic(topic)) return refusal(ErrorCode.BAD_FRAME, call, topic, 'not a topic name (1-256 of A-Z a-z 0-9 _ . : / -)')
  return undefined
}
