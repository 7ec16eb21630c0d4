/**
 * The session core: everything the client decides, with no socket and no timer. Inputs go in through
 * `handle()`; what should happen comes out as a list of effects that the client (client.ts) carries out in
 * order. The connection state is one tagged union changed only by `go()`, which emits every `state` event.
 * Session data (outbox, positions, subscriptions, token) lives beside it; see outbox.ts and positions.ts.
 */
import { CloseCode, ErrorCode, INBOX_TOPIC, PROTOCOL_VERSION } from '@lifeline/protocol'
import type { ErrorFrame, Msg, ServerFrame, Subscribed, Welcome } from '@lifeline/protocol'
import { backoffDelay } from './backoff.js'
import { decodeServerFrame } from './decode.js'
import { LifelineError } from './errors.js'
import { frameText, newEntry, Outbox, type Entry } from './outbox.js'
import type { Resolved } from './options.js'
import { Positions } from './positions.js'
import type { ClientEvents, ClientState } from './types.js'
import type { Restored } from './storage.js'

export type TimerName = 'retry' | 'silence'

export type Input =
  | { type: 'start' }
  | { type: 'socket-open' }
  | { type: 'socket-frame'; text: unknown }
  | { type: 'socket-close'; code: number; reason: string }
  | { type: 'timer'; name: TimerName }
  /** `topic` set: publish; absent: send. `ticket` comes back in the `settle` effect. */
  | { type: 'publish'; topic?: string | undefined; data: unknown; ticket: unknown }
  | { type: 'subscribe'; topic: string }
  | { type: 'unsubscribe'; topic: string }
  /** 'app': client.reconnect(); 'online': the browser's online event. */
  | { type: 'reconnect'; why: 'app' | 'online' }
  | { type: 'close' }

type Emit<T> = { [K in keyof ClientEvents<T>]: { type: 'emit'; event: K; payload: ClientEvents<T>[K] } }[keyof ClientEvents<T>]

export type Effect<T = unknown> =
  | { type: 'connect'; url: string }
  | { type: 'disconnect'; code: number; reason: string }
  | { type: 'write'; text: string }
  /** Arm (ms) or cancel (null) the named timer; arming replaces the previous one. */
  | { type: 'timer'; name: TimerName; ms: number | null }
  | Emit<T>
  /** Settle the promise behind `ticket`: resolved without error. */
  | { type: 'settle'; ticket: unknown; error?: LifelineError }
  /** Settle every pending subscribe(topic). */
  | { type: 'subscribed'; topic: string; error?: LifelineError }
  /** Save this part of the session to storage before any later `write` (so a reload never loses a seq). */
  | { type: 'persist'; part: 'session' | 'outbox' }

/** `attempt`: failed attempts since the last stable connection. `hello`: topics the server was told about. */
export type Conn =
  | { k: 'idle' }
  | { k: 'connecting'; helloSent: boolean }
  | { k: 'open'; since: number; timeoutMs: number }
  | { k: 'waiting' }
  /** `final`: close() was called; otherwise the server refused us and reconnect() may revive the client. */
  | { k: 'closed'; final: boolean }

const TOPIC_RE = /^[\w.:/-]{1,256}$/

export class SessionCore<T = unknown> {
  conn: Conn = { k: 'idle' }
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
  private attempt = 0
  private urlIndex = 0
  private wasOpen = false
  private resumeAsked = false
  private lastFrameAt = 0
  private out: Effect<T>[] = []

  constructor(
    private readonly o: Resolved<T>,
    restored?: Restored,
  ) {
    this.sessionId = restored?.sessionId ?? null
    this.token = restored?.token
    this.positions = new Positions(restored?.positions)
    this.outbox = new Outbox(o.outbox)
    for (const e of restored?.outbox ?? []) this.outbox.entries.push(e), (this.outbox.bytes += e.bytes)
  }

  get state(): ClientState {
    const k = this.conn.k
    return k === 'open' || k === 'closed' ? k : this.wasOpen ? 'reconnecting' : 'connecting'
  }

  /** Feed one input; returns the effects to carry out, in order. */
  handle(input: Input): Effect<T>[] {
    this.out = []
    this.step(input)
    return this.out
  }

  private step(i: Input): void {
    const c = this.conn
    switch (i.type) {
      case 'start':
        if (c.k === 'idle') this.connect()
        return
      case 'socket-open':
        if (c.k !== 'connecting' || c.helloSent) return
        this.lastFrameAt = this.o.now()
        this.go({ k: 'connecting', helloSent: true })
        this.resumeAsked = this.token !== undefined
        this.told = new Set(this.desired)
        return this.write({
          t: 'hello',
          v: PROTOCOL_VERSION,
          ...(this.token === undefined ? {} : { resume: { token: this.token } }),
          subs: this.positions.subs(this.desired),
        })
      case 'socket-frame':
        if ((c.k === 'connecting' && c.helloSent) || c.k === 'open') this.onText(i.text)
        return
      case 'socket-close':
        if (c.k === 'connecting' || c.k === 'open') this.onClose(i.code, i.reason)
        return
      case 'timer':
        if (i.name === 'retry' && c.k === 'waiting') this.connect()
        if (i.name === 'silence') this.onSilenceTimer()
        return
      case 'publish':
        return this.publish(i.topic, i.data, i.ticket)
      case 'subscribe':
        return this.subscribe(i.topic)
      case 'unsubscribe':
        return this.unsubscribe(i.topic)
      case 'reconnect':
        if (c.k === 'waiting' || (c.k === 'closed' && !c.final)) {
          if (c.k === 'closed') this.attempt = 0
          this.timer('retry', null)
          this.connect()
        } else if (i.why === 'app' && (c.k === 'connecting' || c.k === 'open')) {
          this.effect({ type: 'disconnect', code: CloseCode.NORMAL, reason: 'client.reconnect()' })
          this.connect()
        }
        return
      case 'close':
        if (c.k === 'closed' && c.final) return
        return this.shutDown(true, new LifelineError(ErrorCode.CLIENT_CLOSED, 'client.close() was called before this completed'))
    }
  }

  // ---------------------------------------------------------------- connection lifecycle

  /** The one place the connection state changes; emits `state` when the public state does. */
  private go(next: Conn): void {
    const from = this.state
    this.conn = next
    if (next.k === 'open') this.wasOpen = true
    const to = this.state
    if (from !== to) this.emit('state', { from, to })
  }

  private connect(): void {
    this.go({ k: 'connecting', helloSent: false })
    this.lastFrameAt = this.o.now()
    this.timer('silence', this.o.connectTimeoutMs)
    const base = this.o.urls[this.urlIndex % this.o.urls.length]!
    // ?sid= lets a balancer route the resume to the node that holds the session (sticky by session id).
    const url = this.sessionId === null ? base : `${base}${base.includes('?') ? '&' : '?'}sid=${encodeURIComponent(this.sessionId)}`
    this.effect({ type: 'connect', url })
  }

  /** We give up on the current socket (timeout, bad frame, resync): close it and retry with backoff. */
  private drop(code: number, reason: string): void {
    this.effect({ type: 'disconnect', code, reason })
    this.lost(false)
  }

  private onClose(code: number, reason: string): void {
    if (code === CloseCode.UNAUTHORIZED || code === CloseCode.UNSUPPORTED_VERSION) {
      const msg = `server refused the connection (close ${code}${reason ? `: ${reason}` : ''}); call reconnect() once fixed`
      return this.shutDown(false, new LifelineError(ErrorCode.CONNECTION_REFUSED, msg, { closeCode: code }))
    }
    if (code === CloseCode.INVALID_TOKEN) this.sessionGone()
    // 1012: the node is draining for a deploy; another node can take us now. Only for a session that was open,
    // so a cluster that refuses every handshake with 1012 still gets backoff rather than a tight loop.
    this.lost(code === CloseCode.SERVICE_RESTART && this.conn.k === 'open')
  }

  /** The socket is gone (already closed or being closed): schedule the next attempt. */
  private lost(now: boolean): void {
    const c = this.conn
    if (c.k === 'connecting') this.urlIndex++ // never reached welcome: try the next URL
    if (c.k === 'open' && this.o.now() - c.since >= this.o.backoff.resetAfterMs) this.attempt = 0
    this.timer('silence', null)
    this.go({ k: 'waiting' })
    this.timer('retry', now ? 0 : backoffDelay(this.attempt++, this.o.backoff, this.o.random))
  }

  private onSilenceTimer(): void {
    const c = this.conn
    if (c.k !== 'connecting' && c.k !== 'open') return
    const limit = c.k === 'open' ? c.timeoutMs : this.o.connectTimeoutMs
    const quiet = this.o.now() - this.lastFrameAt
    // One timer per period, re-armed for the remainder, rather than a clear+set on every frame.
    if (quiet < limit) return this.timer('silence', limit - quiet)
    this.drop(CloseCode.HEARTBEAT_TIMEOUT, `no frame from the server for ${quiet} ms`)
  }

  /** Stop for good (close()) or until reconnect() (refused): settle everything pending with `error`. */
  private shutDown(final: boolean, error: LifelineError): void {
    const c = this.conn
    if (c.k === 'connecting' || c.k === 'open') this.effect({ type: 'disconnect', code: CloseCode.NORMAL, reason: error.code })
    this.timer('retry', null)
    this.timer('silence', null)
    this.go({ k: 'closed', final })
    if (!final) this.emit('error', error)
    // Storage keeps the outbox: the next client on the same storage delivers it, exactly once, as after a reload.
    for (const e of this.outbox.clear()) this.settle(e, error)
    for (const t of this.desired) if (!this.active.has(t)) this.effect({ type: 'subscribed', topic: t, error })
  }

  // ---------------------------------------------------------------- frames from the server

  private onText(text: unknown): void {
    this.lastFrameAt = this.o.now()
    const d = decodeServerFrame(text)
    if (!d.ok) return this.badFrame(d.message)
    const f: ServerFrame = d.frame
    const open = this.conn.k === 'open'
    if (f.t === 'ping') return this.write({ t: 'pong' })
    if (f.t === 'pong' || f.t === 'unsubscribed') return
    if (f.t === 'error') return this.onError(f)
    if (f.t === 'welcome') return open ? this.badFrame('second welcome on one connection') : this.onWelcome(f)
    if (!open) return this.badFrame(`${f.t} before welcome`)
    if (f.t === 'ack') return this.settleAll(this.outbox.ack(f.seq))
    if (f.t === 'subscribed') return this.onSubscribed(f)
    this.onMsg(f)
  }

  private badFrame(message: string): void {
    this.emit('error', new LifelineError(ErrorCode.BAD_SERVER_FRAME, `bad frame from the server: ${message}; reconnecting`))
    this.drop(CloseCode.BAD_FRAME, message)
  }

  private onWelcome(f: Welcome): void {
    if (this.resumeAsked && !f.resumed) this.sessionGone()
    this.sessionId = f.session.id
    this.token = f.session.token
    // Everything above `acked` is known not applied: renumber it from acked + 1 and send it again, in order.
    const { done, send } = this.outbox.renumber(f.acked)
    this.settleAll(done)
    this.go({ k: 'open', since: this.o.now(), timeoutMs: f.timeoutMs })
    this.timer('silence', f.timeoutMs)
    this.persist('session')
    this.persist('outbox')
    for (const t of this.desired) if (!this.told.has(t)) this.sendSub(t)
    for (const t of this.told) if (!this.desired.has(t)) this.told.delete(t), this.write({ t: 'unsub', topic: t })
    for (const e of send) this.effect({ type: 'write', text: frameText(e) })
  }

  /** The session no longer exists on the server: report the sends whose fate is unknown. */
  private sessionGone(): void {
    const gone = this.outbox.reset()
    const error = new LifelineError(ErrorCode.SESSION_RESET, 'the session expired on the server; this send may or may not have been applied')
    for (const e of gone) this.settle(e, error)
    this.positions.delete(INBOX_TOPIC) // a new session has a new inbox
    this.token = undefined
    this.sessionId = null
    this.resumeAsked = false
    this.persist('session')
    this.persist('outbox')
    const unconfirmed = gone.map((e) => (e.topic === undefined ? { data: JSON.parse(e.json) as unknown } : { topic: e.topic, data: JSON.parse(e.json) as unknown }))
    this.emit('reset', { unconfirmed })
  }

  private onError(f: ErrorFrame): void {
    const error = new LifelineError(f.code as ErrorCode, f.message, f.topic === undefined ? undefined : { topic: f.topic })
    if (f.seq !== undefined) {
      // STORE_UNAVAILABLE: not applied, seq not consumed; the entry stays and is resent after the next welcome.
      const e = f.code === ErrorCode.STORE_UNAVAILABLE ? undefined : this.outbox.refuse(f.seq)
      if (e) this.settle(e, error), this.persist('outbox')
    } else if (f.topic !== undefined && this.desired.has(f.topic) && !this.active.has(f.topic) && f.topic !== INBOX_TOPIC) {
      this.desired.delete(f.topic)
      this.told.delete(f.topic)
      this.effect({ type: 'subscribed', topic: f.topic, error })
    }
    this.emit('error', error)
  }

  private onSubscribed(f: Subscribed): void {
    if (!this.desired.has(f.topic)) return
    const gap = this.positions.subscribed(f)
    this.active.add(f.topic)
    this.persist('session')
    if (gap) this.emit('gap', gap)
    this.effect({ type: 'subscribed', topic: f.topic })
  }

  private onMsg(f: Msg): void {
    if (!this.desired.has(f.topic)) return
    const verdict = this.positions.check(f.topic, f.offset, f.epoch)
    if (verdict === 'resync') {
      // Delivering would break order and no gap was announced. Reconnecting makes the server replay from our
      // position through the one well-trodden path (hello), rather than a second sub on a live subscription.
      const at = this.positions.map.get(f.topic)
      return this.drop(CloseCode.NORMAL, `resync ${f.topic}: got ${f.epoch}/${f.offset} at ${at?.epoch}/${at?.offset}`)
    }
    if (verdict !== 'deliver') return // duplicate of a delivered offset, or before our starting point
    this.positions.advance(f.topic, f.offset)
    this.persist('session')
    const schema = this.o.schema
    if (!schema) return this.emit('message', { topic: f.topic, offset: f.offset, epoch: f.epoch, data: f.data as T })
    const r = schema.safeParse(f.data)
    if (r.success) return this.emit('message', { topic: f.topic, offset: f.offset, epoch: f.epoch, data: r.data })
    const msg = `message ${f.topic}/${f.offset} failed the schema and was skipped: ${String(r.error ?? 'invalid')}`
    this.emit('error', new LifelineError(ErrorCode.INVALID_DATA, msg, { topic: f.topic }))
  }

  // ---------------------------------------------------------------- app calls

  private publish(topic: string | undefined, data: unknown, ticket: unknown): void {
    const refuse = (code: ErrorCode, message: string) => this.effect({ type: 'settle', ticket, error: new LifelineError(code, message) })
    const c = this.conn
    if (c.k === 'closed') return refuse(c.final ? ErrorCode.CLIENT_CLOSED : ErrorCode.CONNECTION_REFUSED, 'the client is closed')
    if (topic !== undefined) {
      const bad = topicError(topic)
      if (bad) return refuse(bad, `cannot publish to ${JSON.stringify(topic)}: ${bad === ErrorCode.RESERVED_TOPIC ? 'reserved' : 'topics are 1-256 of A-Z a-z 0-9 _ . : / -'}`)
    }
    let json: string | undefined
    try {
      json = JSON.stringify(data)
    } catch (e) {
      return refuse(ErrorCode.NOT_SERIALIZABLE, `data cannot be encoded as JSON: ${(e as Error).message}`)
    }
    if (json === undefined) return refuse(ErrorCode.NOT_SERIALIZABLE, `data cannot be encoded as JSON (${typeof data})`)
    const e = newEntry(topic, json, ticket)
    const r = this.outbox.add(e)
    if (!r.ok) return refuse(ErrorCode.OUTBOX_FULL, r.message)
    const dropped = new LifelineError(ErrorCode.OUTBOX_DROPPED, 'dropped from a full outbox for a newer message (overflow: drop-oldest)')
    for (const d of r.dropped) this.settle(d, dropped)
    const fresh = c.k === 'open' ? this.outbox.assign() : []
    this.persist('outbox') // before the write: a reload must find the seq it was sent with
    for (const x of fresh) this.effect({ type: 'write', text: frameText(x) })
  }

  private subscribe(topic: string): void {
    const c = this.conn
    const bad = topicError(topic)
    const fail = (code: ErrorCode, m: string) => this.effect({ type: 'subscribed', topic, error: new LifelineError(code, m, { topic }) })
    if (bad) return fail(bad, `cannot subscribe to ${JSON.stringify(topic)}: not a valid topic name`)
    if (c.k === 'closed') return fail(c.final ? ErrorCode.CLIENT_CLOSED : ErrorCode.CONNECTION_REFUSED, 'the client is closed')
    if (this.active.has(topic)) return this.effect({ type: 'subscribed', topic })
    this.desired.add(topic)
    if (c.k === 'open' && !this.told.has(topic)) this.sendSub(topic)
  }

  private unsubscribe(topic: string): void {
    if (topic === INBOX_TOPIC || !this.desired.has(topic)) return
    this.desired.delete(topic)
    this.active.delete(topic)
    this.positions.delete(topic)
    this.persist('session')
    this.effect({ type: 'subscribed', topic }) // a subscribe still waiting has nothing left to wait for
    if (this.conn.k === 'open' && this.told.delete(topic)) this.write({ t: 'unsub', topic })
  }

  private sendSub(topic: string): void {
    this.told.add(topic)
    const from = this.positions.map.get(topic)
    this.write(from ? { t: 'sub', topic, from: { offset: from.offset, epoch: from.epoch } } : { t: 'sub', topic })
  }

  // ---------------------------------------------------------------- effect helpers

  private effect(e: Effect<T>): void {
    this.out.push(e)
  }
  private emit<K extends keyof ClientEvents<T>>(event: K, payload: ClientEvents<T>[K]): void {
    this.out.push({ type: 'emit', event, payload } as Emit<T>)
  }
  private write(frame: object): void {
    this.effect({ type: 'write', text: JSON.stringify(frame) })
  }
  private timer(name: TimerName, ms: number | null): void {
    this.effect({ type: 'timer', name, ms })
  }
  private persist(part: 'session' | 'outbox'): void {
    this.effect({ type: 'persist', part })
  }
  private settle(e: Entry, error?: LifelineError): void {
    if (e.ticket !== undefined) this.effect(error ? { type: 'settle', ticket: e.ticket, error } : { type: 'settle', ticket: e.ticket })
  }
  private settleAll(done: Entry[]): void {
    for (const e of done) this.settle(e)
    if (done.length) this.persist('outbox')
  }
}

/** Checked here so a bad name fails the one call, not the whole `hello` (the server would close on it). */
function topicError(topic: string): ErrorCode | undefined {
  if (topic !== INBOX_TOPIC && (typeof topic !== 'string' || !TOPIC_RE.test(topic))) {
    return typeof topic === 'string' && topic.startsWith('@') ? ErrorCode.RESERVED_TOPIC : ErrorCode.BAD_FRAME
  }
  return undefined
}
