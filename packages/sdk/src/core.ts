/**
 * The session core: everything the client decides, with no socket and no timer. Inputs go in through
 * `handle()`; what should happen comes out as a list of effects (effects.ts) that the client carries out in
 * order. This file owns the connection: one tagged-union state changed only by `go()`, which emits every
 * `state` event; backoff, close codes, heartbeat and frame checks. session.ts owns the session's data.
 */
import { CloseCode, ErrorCode } from '@lifeline/protocol'
import { backoffDelay } from './backoff.js'
import { decodeServerFrame } from './decode.js'
import { Sink, type Effect, type Input } from './effects.js'
import { CLOSED, LifelineError, serverError } from './errors.js'
import { refreshIn } from './auth.js'
import { historyFields, historyValue } from './history.js'
import type { ResolvedOptions } from './options.js'
import { Queries } from './queries.js'
import { Session } from './session.js'
import type { Restored } from './storage.js'
import type { ClientState } from './types.js'

export type { Effect, Input, TimerName } from './effects.js'

/** The connection as the core tracks it; `state` (the public ClientState) is derived from it. */
export type ConnState =
  | { type: 'idle' }
  /** Socket requested (`helloSent` false), open and waiting for the token (`opened`), or hello sent, waiting for welcome. */
  | { type: 'connecting'; helloSent: boolean; opened?: boolean }
  | { type: 'open'; since: number; timeoutMs: number }
  /** Backoff timer running. */
  | { type: 'waiting' }
  /** `final`: close() was called; otherwise the server refused us and reconnect() may revive the client. */
  | { type: 'closed'; final: boolean }

export class SessionCore<T = unknown> {
  conn: ConnState = { type: 'idle' }
  declare readonly session: Session<T>
  readonly #sink = new Sink<T>()
  readonly queries = new Queries<T>(this.#sink)
  /** Failed attempts since the last stable connection: the backoff exponent. */
  #attempt = 0
  #urlIndex = 0
  #wasOpen = false
  #lastFrameAt = 0
  /** The user's token for this connection (the `token` option), once it came; asked for at each connect. */
  #jwt: string | undefined
  /** A refresh was asked for on the open connection: the token that comes goes out in an `auth` frame. */
  #refreshing = false
  readonly #o: ResolvedOptions<T>

  constructor(o: ResolvedOptions<T>, restored?: Restored) {
    this.#o = o
    this.session = new Session(this.#sink, o, restored)
  }

  get state(): ClientState {
    const type = this.conn.type
    return type === 'open' || type === 'closed' ? type : this.#wasOpen ? 'reconnecting' : 'connecting'
  }

  /** Feed one input; returns the effects to carry out, in order. */
  handle(input: Input): Effect<T>[] {
    this.#sink.out = []
    this.#step(input)
    return this.#sink.out
  }

  #step(i: Input): void {
    const c = this.conn
    const s = this.session
    const open = c.type === 'open'
    // What a call gets once the client is closed: CLIENT_CLOSED after close(), CONNECTION_REFUSED otherwise.
    const closed = c.type !== 'closed' ? undefined : c.final ? ErrorCode.CLIENT_CLOSED : ErrorCode.CONNECTION_REFUSED
    switch (i.type) {
      case 'start':
        return c.type === 'idle' ? this.#connect() : undefined
      case 'socket-open':
        if (c.type !== 'connecting' || c.helloSent) return
        this.#lastFrameAt = this.#o.now()
        // The hello carries the token: wait for it if it has not come yet (the socket opened first).
        if (this.#o.token !== undefined && this.#jwt === undefined) return this.#go({ type: 'connecting', helloSent: false, opened: true })
        return this.#sayHello()
      case 'token':
        return this.#onToken(i.token, i.error)
      case 'socket-frame':
        return (c.type === 'connecting' && c.helloSent) || open ? this.#onText(i.text) : undefined
      case 'socket-close':
        return c.type === 'connecting' || open ? this.#onClose(i.code, i.reason) : undefined
      case 'timer':
        if (i.name === 'retry' && c.type === 'waiting') this.#connect()
        if (i.name === 'silence') this.#onSilenceTimer()
        if (i.name === 'token' && open) {
          this.#refreshing = true
          this.#sink.effect({ type: 'fetch-token' })
        }
        return
      case 'publish':
        return s.enqueue(i.topic, i.data, i.ticket, open, closed)
      case 'send':
        return s.enqueue(undefined, i.data, i.ticket, open, closed)
      case 'subscribe':
        return s.subscribe(i.topic, open, closed, i.from, i.epoch, i.presence)
      case 'unsubscribe':
        return s.unsubscribe(i.topic, open)
      case 'history': {
        const fields = historyFields(i.topic, i.from, i.limit)
        if (fields instanceof LifelineError) return this.#sink.effect({ type: 'settle', ticket: i.ticket, error: fields })
        return this.queries.ask('history', fields, i.ticket, open, closed, (v) => historyValue(i.topic, v, this.#o.schema, this.#sink))
      }
      case 'query':
        return this.queries.ask(i.kind, i.fields, i.ticket, open, closed)
      case 'abort':
        s.abort(i.ticket)
        return this.queries.abort(i.ticket)
      case 'reconnect':
        if (c.type === 'waiting' || (c.type === 'closed' && !c.final)) {
          if (c.type === 'closed') this.#attempt = 0
          this.#sink.timer('retry', null)
          this.#connect()
        } else if (i.why === 'app' && (c.type === 'connecting' || open)) {
          this.#sink.effect({ type: 'disconnect', code: CloseCode.NORMAL, reason: 'client.reconnect()' })
          this.#connect()
        } // 'online' while connecting or open: nothing to skip; the heartbeat catches a socket that died offline
        return
      case 'close':
        if (c.type === 'closed' && c.final) return
        return this.#shutDown(true, new LifelineError(ErrorCode.CLIENT_CLOSED, CLOSED))
    }
  }

  /** The one place the connection state changes; emits `state` when the public state does. */
  #go(next: ConnState): void {
    const from = this.state
    this.conn = next
    if (next.type === 'open') this.#wasOpen = true
    const to = this.state
    if (from !== to) this.#sink.emit('state', { from, to })
  }

  #connect(): void {
    this.#go({ type: 'connecting', helloSent: false })
    // A token at every connect: the last one may have expired (that may be why this connection is new).
    this.#jwt = undefined
    this.#refreshing = false
    if (this.#o.token !== undefined) this.#sink.effect({ type: 'fetch-token' })
    this.#lastFrameAt = this.#o.now()
    this.#sink.timer('silence', this.#o.connectTimeoutMs)
    const base = this.#url()
    const sid = this.session.sessionId
    // ?sid= lets a balancer route the resume to the node that holds the session (sticky by session id).
    const url = sid === null ? base : `${base}${base.includes('?') ? '&' : '?'}sid=${encodeURIComponent(sid)}`
    this.#sink.effect({ type: 'connect', url })
  }

  /** The URL of the current attempt: the fallbacks in turn, one per failed attempt. */
  #url(): string {
    return this.#o.urls[this.#urlIndex % this.#o.urls.length]!
  }

  /** We give up on the current socket (timeout, bad frame, resync): close it and retry with backoff. */
  #drop(code: number, reason: string): void {
    this.#sink.effect({ type: 'disconnect', code, reason })
    this.#lost(false, { code, reason })
  }

  #onClose(code: number, reason: string): void {
    if (code === CloseCode.UNAUTHORIZED || code === CloseCode.UNSUPPORTED_VERSION) {
      const msg = `server refused the connection (close ${code}${reason ? `: ${reason}` : ''}); call reconnect() once fixed`
      return this.#shutDown(false, new LifelineError(ErrorCode.CONNECTION_REFUSED, msg, { closeCode: code }))
    }
    if (code === CloseCode.INVALID_TOKEN) this.session.reset('expired')
    if (code === CloseCode.TOO_BIG) this.session.tooBigClose()
    // 1012: the node is draining for a deploy; another node can take us now. Only for a session that was open,
    // so a cluster that refuses every handshake with 1012 still gets backoff rather than a tight loop.
    this.#lost(code === CloseCode.SERVICE_RESTART && this.conn.type === 'open', { code, reason })
  }

  /**
   * The socket is gone (already closed, or being closed by us): schedule the next attempt. `closed`: how it
   * closed, when the server (or the platform) closed it; an attempt that never reached `welcome` is reported.
   */
  #lost(now: boolean, closed: { code: number; reason: string }): void {
    const c = this.conn
    if (c.type === 'open' && this.#o.now() - c.since >= this.#o.backoff.resetAfterMs) this.#attempt = 0
    const delay = now ? this.#o.random() * this.#o.backoff.restartSpreadMs : backoffDelay(this.#attempt++, this.#o.backoff, this.#o.random)
    if (c.type === 'connecting') {
      // Never reached welcome: say so (a refused port, a bad URL, an HTTP error on the upgrade are otherwise
      // invisible), then try the next URL.
      const url = this.#url()
      const cause = closed.reason || 'connection closed'
      const status = /\b([1-5]\d\d)\b/.exec(cause)?.[1]
      const details = { url, cause, closeCode: closed.code, retryInMs: Math.round(delay), ...(status ? { status: Number(status) } : {}) }
      const message = `connection to ${url} failed (close ${closed.code}: ${cause}); retrying in ${details.retryInMs} ms`
      this.#sink.emit('error', new LifelineError(ErrorCode.CONNECT_FAILED, message, details))
      this.#urlIndex++
    }
    this.#sink.timer('silence', null)
    this.#go({ type: 'waiting' })
    this.#sink.timer('retry', delay)
  }

  #onSilenceTimer(): void {
    const c = this.conn
    if (c.type !== 'connecting' && c.type !== 'open') return
    const limit = c.type === 'open' ? c.timeoutMs : this.#o.connectTimeoutMs
    const quiet = this.#o.now() - this.#lastFrameAt
    // One timer per period, re-armed for the remainder, rather than a clear+set on every frame.
    if (quiet < limit) return this.#sink.timer('silence', limit - quiet)
    this.#drop(CloseCode.HEARTBEAT_TIMEOUT, `no frame from the server for ${quiet} ms`)
  }

  /** Stop for good (close()) or until reconnect() (refused): settle everything pending with `error`. */
  #shutDown(final: boolean, error: LifelineError): void {
    const c = this.conn
    if (c.type === 'connecting' || c.type === 'open') this.#sink.effect({ type: 'disconnect', code: CloseCode.NORMAL, reason: error.code })
    for (const t of ['retry', 'silence', 'token'] as const) this.#sink.timer(t, null)
    this.#go({ type: 'closed', final })
    if (!final) this.#sink.emit('error', error)
    this.session.shutDown(error)
    this.queries.shutDown(error)
  }

  #onText(text: unknown): void {
    this.#lastFrameAt = this.#o.now()
    const d = decodeServerFrame(text)
    if (!d.ok) return this.#badFrame(d.message)
    const f = d.frame
    const s = this.session
    const open = this.conn.type === 'open'
    if (f.t === 'ping') return this.#sink.write({ t: 'pong' })
    if (f.t === 'pong' || f.t === 'unsubscribed') return
    if (f.t === 'result') return void this.queries.answer(f.id, f.value)
    if (f.t === 'error' && f.id !== undefined) {
      // A refused question: its promise rejects, and like every server error it is an `error` event too.
      const error = serverError(f)
      this.queries.answer(f.id, undefined, error)
      return this.#sink.emit('error', error)
    }
    if (f.t === 'error') return s.error(f)
    if (f.t === 'welcome') {
      if (open) return this.#badFrame('second welcome')
      this.#go({ type: 'open', since: this.#o.now(), timeoutMs: f.timeoutMs })
      this.#sink.timer('silence', f.timeoutMs)
      s.welcome(f)
      this.#armRefresh()
      return this.queries.welcome()
    }
    if (!open) return this.#badFrame(`${f.t} before welcome`)
    if (f.t === 'ack') return s.ack(f.seq)
    if (f.t === 'subscribed') return s.subscribed(f)
    if (f.t === 'presence') return s.presence(f)
    const resync = s.msg(f)
    // Delivering would break order and no gap was announced. Reconnecting makes the server replay from our
    // position through the one well-trodden path (hello), rather than a second sub on a live subscription.
    if (resync) this.#drop(CloseCode.NORMAL, resync)
  }

  #sayHello(): void {
    this.#go({ type: 'connecting', helloSent: true })
    this.#sink.write(this.session.hello(this.#jwt))
  }

  /** The `token` option answered: into the hello that waits for it, or onto the open connection (a refresh). */
  #onToken(token: string | undefined, error: string | undefined): void {
    const c = this.conn
    if (!token) {
      // A connection attempt that cannot say who the user is has failed (CONNECT_FAILED, with the cause). A
      // failed refresh is not an error yet: the connection keeps its token, and if it expires (4440), the
      // reconnect asks again and reports a failure then.
      if (c.type === 'connecting') this.#drop(CloseCode.NORMAL, `token: ${error ?? 'none'}`)
      return
    }
    this.#jwt = token
    if (c.type === 'connecting' && c.opened) return this.#sayHello()
    if (c.type === 'open' && this.#refreshing) {
      this.#refreshing = false
      this.#sink.write({ t: 'auth', token })
      this.#armRefresh()
    }
  }

  /** Ask for a fresh token before this one's exp (auth.ts); only a function can give a fresher one. */
  #armRefresh(): void {
    const ms = typeof this.#o.token === 'function' && this.#jwt ? refreshIn(this.#jwt, this.#o.now()) : null
    this.#sink.timer('token', ms)
  }

  #badFrame(message: string): void {
    this.#sink.emit('error', new LifelineError(ErrorCode.BAD_SERVER_FRAME, `bad frame from the server: ${message}; reconnecting`))
    this.#drop(CloseCode.BAD_FRAME, message)
  }
}
