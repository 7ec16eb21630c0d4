/**
 * One client socket: the thin `ws` adapter around the pure connection core (core/connection.ts). It turns
 * socket events, store replies, hook results and the node's timer into core inputs, and carries out the
 * effects the core returns, in order: frames through the output queue (output.ts), closes, store calls, live
 * topics (hub.ts), the app's authorize and onMessage hooks (with their timeout). It decides nothing.
 */
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'
import { CloseCode, isReservedTopic } from '@lifeline/protocol'
import type { Verifier } from '../security/jwt.js'
import { applyOp } from '../store/batch.js'
import type { ApplyOp, Store, StoredMessage } from '../store/types.js'
import { ConnectionCore } from './core/connection.js'
import { REPLAY_HIGH_WATER } from './core/subscription.js'
import type { Verified } from './core/identity.js'
import type { CoreConfig, Effect, HandlerOutcome, Input, StoreCall } from './core/types.js'
import type { HubMember, TopicHub } from './hub.js'
import type { MessageContext, ResolvedNodeOptions } from './options.js'
import { Output, type Wire } from './output.js'
import { ClientLink } from './link.js'
import type { ImpairOptions } from '../faults/options.js'
import type { NodeStats } from './stats.js'
import { connectVerdict, sendOutcome } from './webhooks.js'

/** After our close frame, how long a silent peer may take to answer before the socket is destroyed. */
const CLOSE_GRACE_MS = 2_000
/**
 * The same for a slow consumer cut with 1013. Its unsent frames were dropped, so all it has left to read is what
 * the socket and the kernel hold (a few MB at most); it costs us no memory meanwhile, and destroying the socket
 * earlier would turn its 1013 into a 1006.
 */
const SLOW_CLOSE_GRACE_MS = 30_000

/** What a socket needs from its node. */
export interface SocketHost {
  readonly store: Store
  readonly hub: TopicHub
  readonly options: ResolvedNodeOptions
  readonly core: CoreConfig
  /** Verifies users' tokens (security/jwt.ts), when the node requires them. */
  readonly verify: Verifier | undefined
  /** The node's counters for the dashboard (stats.ts). */
  readonly stats: NodeStats
  log(line: string): void
  /** `socket` now serves `session`: an older socket of it on this node is superseded. */
  own(socket: ClientSocket, session: string): void
  /** `socket` is no longer the node's: closing (its close frame is out), or gone. */
  forget(socket: ClientSocket): void
  /** `socket` is gone (`ws` said 'close'). */
  gone(socket: ClientSocket): void
}

/**
 * Each connection's ClientSocket, by its WebSocket: `ws` calls a listener with `this` set to the WebSocket, so one
 * function per event serves every connection (ClientSocket.onMessage and the others) where a closure each, and
 * their context, cost an idle connection about 250 bytes.
 */
const owners = new WeakMap<WebSocket, ClientSocket>()

/**
 * Per-connection state is kept to what an idle connection needs: the memory row counts every byte of it, times
 * 10,000. Hence the methods below rather than closures: the socket is also its Output's wire and its topics'
 * member in the hub, and its `ws` listeners are shared by every connection.
 */
export class ClientSocket implements Wire, HubMember {
  readonly core: ConnectionCore
  private readonly output: Output
  /** Store topics this connection listens to in the hub (one or two on most connections: an array is enough). */
  private listening: string[] = []
  private effects: Effect[] = []
  private running = false
  private awaitingDrain = false
  /**
   * The upgrade request, kept only for the app's authorize hook and only until `hello` hands it over: an idle
   * connection holding its request (headers, raw headers, parser state) costs about a kilobyte more, for
   * nothing (the memory row: 8.1 KB of heap per idle connection with it held, 5.5 KB before it was).
   */
  private request: IncomingMessage | undefined
  private readonly socket: Socket
  /** Only while this connection is impaired (network faults, link.ts): every path below tests it and goes on. */
  private link: ClientLink | undefined
  /** While frames of this turn are held in the socket for one write (corkUntilTick). */
  private corked = false
  /** The socket is gone (`ws` said 'close'). */
  private gone = false
  /** `closed`, made when first asked for: most connections are never waited for. */
  private whenClosed: { promise: Promise<void>; resolve: () => void } | undefined

  constructor(
    private readonly ws: WebSocket,
    request: IncomingMessage,
    private readonly host: SocketHost,
  ) {
    this.request = host.options.authorize ? request : undefined
    this.socket = request.socket
    // A bound method rather than an arrow: no context of its own, 48 bytes less on every connection.
    this.output = new Output(this, host.options.maxBufferedBytes, this.slowConsumer.bind(this))
    this.core = new ConnectionCore(host.core, Date.now())
    owners.set(ws, this)
    ws.on('message', ClientSocket.onMessage)
    ws.on('error', ClientSocket.onError)
    // `ws` emits 'close' once.
    ws.on('close', ClientSocket.onClose)
  }

  private static onMessage(this: WebSocket, data: Buffer): void {
    const s = owners.get(this)
    if (!s) return
    if (s.link) s.link.frame(data.toString('utf8'), data.length)
    else s.run({ type: 'frame', text: data.toString('utf8'), bytes: data.length })
  }

  /** ws reports protocol violations (oversized → 1009, bad UTF-8 → 1007) as errors and closes by itself. */
  private static onError(this: WebSocket, e: Error): void {
    owners.get(this)?.host.log(`connection error: ${e.message}`)
  }

  private static onClose(this: WebSocket): void {
    const s = owners.get(this)
    if (!s || s.gone) return
    s.gone = true
    s.whenClosed?.resolve()
    s.link?.dispose()
    s.link = undefined
    s.run({ type: 'socket-closed' })
    for (const topic of s.listening) s.host.hub.leave(topic, s)
    s.listening = []
    s.host.forget(s)
    s.host.gone(s)
  }

  /** Resolves when the socket is gone. */
  get closed(): Promise<void> {
    if (this.gone) return Promise.resolve()
    if (!this.whenClosed) {
      let resolve!: () => void
      const promise = new Promise<void>((r) => (resolve = r))
      this.whenClosed = { promise, resolve }
    }
    return this.whenClosed.promise
  }

  // ---------------------------------------------------------------- Output's wire (output.ts)

  send(text: string, written?: () => void): void {
    if (this.link) return this.link.send(text, written)
    this.corkUntilTick()
    this.ws.send(text, written && (() => written()))
  }

  buffered(): number {
    return this.link ? this.ws.bufferedAmount + this.link.buffered : this.ws.bufferedAmount
  }

  onceDrained(fn: () => void): void {
    if (this.link) this.link.onceDrained(fn)
    else this.socket.once('drain', fn)
  }

  // ---------------------------------------------------------------- the hub's member (hub.ts)

  live(message: StoredMessage): void {
    this.run({ type: 'live', message })
  }

  resync(topic: string): void {
    this.run({ type: 'resync', topic })
  }

  get session(): string | undefined {
    return this.core.held?.session
  }

  /** The user of the connection's verified token, if any. */
  get user(): string | undefined {
    return this.core.user
  }

  /** Feed the core one input and carry out what it asks, in order (effects of re-entrant inputs queue behind). */
  run(input: Input): void {
    try {
      this.effects.push(...this.core.handle(input, { now: Date.now(), buffered: this.output.buffered }))
    } catch (e) {
      // Nothing a client sends may throw out of an event handler (that would crash the whole node).
      this.host.log(`internal error: ${(e as Error)?.stack ?? String(e)}`)
      this.run({ type: 'socket-closed' })
      return this.finish(CloseCode.INTERNAL_ERROR, 'internal error')
    }
    if (this.running) return
    this.running = true
    try {
      for (let e = this.effects.shift(); e; e = this.effects.shift()) this.exec(e)
      // Empty, but shift() leaves it its backing store (about 140 bytes on an idle connection): length 0 frees it.
      this.effects.length = 0
    } finally {
      this.running = false
    }
  }

  /** The node's timer. Also wakes a replay that waits for output to drain, should the drain event be missed. */
  tick(): void {
    if (this.awaitingDrain && this.output.buffered <= REPLAY_HIGH_WATER) this.drained()
    this.run({ type: 'tick' })
  }

  /**
   * Shape this connection (network faults: node/faults.ts decides what applies), or, with undefined, heal it:
   * what its link held flows now, in order, and the connection is back on its direct path.
   */
  impair(impairment: ImpairOptions | undefined): void {
    if (this.link) {
      if (!this.link.impair(impairment)) this.link = undefined
    } else if (impairment) {
      this.link = new ClientLink(this.ws, this.socket, impairment, (text, bytes) => this.run({ type: 'frame', text, bytes }))
    }
  }

  /**
   * Frames written in one turn of the event loop leave in one write: the socket is corked on the first and
   * uncorked once the current callback and its promise jobs are done (process.nextTick runs after them). A
   * fan-out of a burst of messages is then one writev per subscriber per burst instead of one per message; the
   * profile of the throughput row had 74% of the node's CPU in writev. A frame waits no longer than the turn.
   */
  private corkUntilTick(): void {
    if (this.corked) return
    this.corked = true
    this.socket.cork()
    process.nextTick(() => {
      this.corked = false
      this.socket.uncork()
    })
  }

  /** Hard stop (the node closes): no close frame. */
  terminate(): void {
    this.run({ type: 'socket-closed' })
    this.ws.terminate()
  }

  private exec(e: Effect): void {
    switch (e.type) {
      case 'send':
        this.host.stats.sent(e.text)
        return this.output.send(e.text)
      case 'close':
        if (e.final !== undefined) {
          if (this.link) this.link.send(e.final)
          else this.ws.send(e.final)
        }
        return this.finish(e.code, e.reason)
      case 'store':
        return this.store(e.id, e.call)
      case 'listen':
        if (!this.listening.includes(e.topic)) {
          // Copied at its exact size while it is short: push would leave room for 16 more (130 bytes an idle
          // connection keeps); past a few topics push it is, so a hello of many topics does not copy it each time.
          // (`includes` scans it: a hello of maxSubscriptions topics, 1,000 by default, makes 500k string comparisons, a few milliseconds at most.)
          if (this.listening.length < 4) this.listening = this.listening.concat(e.topic)
          else this.listening.push(e.topic)
          this.host.hub.join(e.topic, this)
        }
        return
      case 'unlisten': {
        const at = this.listening.indexOf(e.topic)
        if (at === -1) return
        this.listening.splice(at, 1)
        return this.host.hub.leave(e.topic, this)
      }
      case 'verify':
        return void this.verify(e.token)
      case 'authorize':
        return void this.authorize(e)
      case 'handle':
        return void this.handle(e)
      case 'own':
        return this.host.own(this, e.session)
      case 'await-drain':
        this.awaitingDrain = true
        if (this.link) return this.link.onceDrained(() => this.drained())
        return void this.socket.once('drain', () => this.drained())
      case 'log':
        return this.host.log(e.line)
    }
  }

  private drained(): void {
    if (!this.awaitingDrain) return
    this.awaitingDrain = false
    this.run({ type: 'drained' })
  }

  /** Output's overflow: more unsent output than maxBufferedBytes. */
  private slowConsumer(): void {
    this.finish(CloseCode.SLOW_CONSUMER, 'slow consumer: too much unsent output')
  }

  /** Close with `code`: queued output is dropped so the close frame goes first; destroyed after a grace. */
  private finish(code: number, reason: string): void {
    // Done as far as the node is concerned: it no longer counts, routes or drains this socket.
    this.host.forget(this)
    this.output.drop()
    // A close reason is limited to 123 bytes by RFC 6455.
    const why = Buffer.from(reason).subarray(0, 123).toString()
    // An impaired link holds the close frame and the drop behind the frames it holds, as a dead link would a FIN.
    if (this.link) this.link.close(code, why)
    else {
      try {
        this.ws.close(code, why)
      } catch {
        this.ws.terminate()
      }
    }
    // A slow consumer is reading, only slowly: let it reach the close frame behind what the kernel holds.
    const drop = (): void => (this.link ? this.link.terminate() : this.ws.terminate())
    setTimeout(drop, code === CloseCode.SLOW_CONSUMER ? SLOW_CLOSE_GRACE_MS : CLOSE_GRACE_MS).unref()
  }

  private store(id: number, call: StoreCall): void {
    const store = this.host.store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
    const settled = this.host.stats.call(call.method)
    let result: Promise<unknown>
    try {
      result = call.method === 'apply' ? applyOp(this.host.store, call.args[0] as ApplyOp) : store[call.method]!.apply(this.host.store, call.args)
    } catch (e) {
      result = Promise.reject(e)
    }
    result.then(
      (value) => {
        settled(true)
        this.run({ type: 'store', id, ok: true, value })
      },
      (e: unknown) => {
        settled(false)
        this.run({ type: 'store', id, ok: false, error: (e as Error)?.message ?? String(e) })
      },
    )
  }

  /** A token, verified off the core (jose is async): the core gets the identity or the reason. */
  private async verify(token: string): Promise<void> {
    const verify = this.host.verify
    let result: Verified
    try {
      result = verify ? await verify(token) : { ok: false, reason: 'this node verifies no tokens' }
    } catch (e) {
      result = { ok: false, reason: `could not be verified (${(e as Error)?.message ?? String(e)})` }
    }
    this.run({ type: 'verified', result })
  }

  /**
   * The app's authorize hook (given the upgrade request once), then the connect webhook: null when both
   * accept, else the first refusal (`retry` when the webhook could not answer).
   */
  private async authorize(e: Extract<Effect, { type: 'authorize' }>): Promise<void> {
    const hook = this.host.options.authorize
    const webhook = this.host.options.webhooks?.connect
    const request = this.request
    this.request = undefined
    let verdict: { refusal: string | null; retry?: boolean } = { refusal: null }
    if (hook) {
      try {
        const said = request ? await hook(e.hello, request) : false
        verdict.refusal = said === false ? 'unauthorized' : typeof said === 'string' ? said || 'unauthorized' : null
      } catch (err) {
        verdict.refusal = (err as Error)?.message || 'unauthorized'
      }
    }
    if (verdict.refusal === null && webhook) {
      const payload = { session: e.session, user: e.user, claims: e.claims, resumed: e.resumed, node: this.host.core.node }
      verdict = await connectVerdict(webhook, payload, this.host.options.webhookTimeoutMs)
      if (verdict.retry) this.host.log(`connect webhook: ${verdict.refusal}`)
    }
    this.run({ type: 'authorized', ...verdict })
  }

  /**
   * The send handler: the send webhook if there is one, else the app's `onMessage`, sealed when it returns or
   * times out; what it published commits with the seq.
   */
  private async handle(e: Extract<Effect, { type: 'handle' }>): Promise<void> {
    const { seq, data, session, inbox, user } = e
    const webhook = this.host.options.webhooks?.send
    if (webhook) {
      const outcome = await sendOutcome(webhook, { session, user, seq, data }, inbox, this.host.options.webhookTimeoutMs, this.host.options.maxFrameBytes)
      if (!outcome.ok) this.host.log(`send webhook, seq ${seq} of session ${session}: ${outcome.reason}${outcome.retry ? ' (not acknowledged: the client resends it)' : ''}`)
      return this.run({ type: 'handled', seq, outcome })
    }
    const appends: { topic: string; data: unknown }[] = []
    let sealed = false
    const ctx: MessageContext = {
      session: user === undefined ? { id: session } : { id: session, user },
      node: this.host.core.node,
      publish(topic, value) {
        if (sealed) throw new Error('ctx.publish called after the handler returned; await your work inside onMessage')
        if (isReservedTopic(topic)) throw new Error(`ctx.publish: topic ${topic} is reserved; use ctx.reply for the sender's inbox`)
        appends.push({ topic, data: value })
      },
      reply(value) {
        if (sealed) throw new Error('ctx.reply called after the handler returned; await your work inside onMessage')
        appends.push({ topic: inbox, data: value })
      },
    }
    let outcome: HandlerOutcome
    try {
      await withTimeout(this.host.options.onMessage(ctx, data), this.host.options.handlerTimeoutMs)
      outcome = { ok: true, appends }
    } catch (e) {
      outcome = { ok: false, reason: (e as Error)?.message ?? String(e) }
    } finally {
      sealed = true
    }
    this.run({ type: 'handled', seq, outcome })
  }
}

/**
 * The handler's promise, or a rejection once `ms` passed: a handler that never settles would otherwise hold this
 * connection's queue (and every later frame of the session) forever. What it does after the timeout is sealed
 * off: ctx.publish/reply throw, and the send is refused with HANDLER_FAILED.
 */
async function withTimeout(work: void | Promise<void>, ms: number): Promise<void> {
  if (!(work instanceof Promise)) return
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`it did not settle within handlerTimeoutMs (${ms} ms)`)), ms)
  })
  try {
    await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}
