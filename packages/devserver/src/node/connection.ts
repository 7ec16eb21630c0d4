/**
 * One client socket: the protocol state machine. Frames are decoded as they arrive, then handled strictly one
 * after another through a per-connection queue, so acks go out in seq order and a slow store call delays this
 * connection only. Every path ends in a frame or a close with a code; nothing throws out of a handler.
 */
import type { IncomingMessage } from 'node:http'
import type { WebSocket } from 'ws'
import { CloseCode, decodeClientFrame, encode, ErrorCode, INBOX_TOPIC, PROTOCOL_VERSION, type Frame } from '@lifeline/protocol'
import { TokenBucket } from './rate-limit.js'
import { Liveness } from './liveness.js'
import { Output } from './output.js'
import { Subscription, type Outlet } from './subscription.js'
import { hello as openSession } from './hello.js'
import { pub, refuseOp, send } from './ops.js'
import type { NodeContext } from './context.js'

/** Input bytes queued behind a slow store before the connection is cut (4429): bounds memory per socket. */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024
/** After our close frame, how long a silent peer may take to answer before the socket is destroyed. */
const CLOSE_GRACE_MS = 2_000
/**
 * The same for a slow consumer cut with 1013. Its unsent frames were dropped, so all it has left to read is what
 * the socket and the kernel hold (a few MB at most); it costs us no memory meanwhile, and destroying the socket
 * earlier would turn its 1013 into a 1006.
 */
const SLOW_CLOSE_GRACE_MS = 30_000

export type Phase =
  | { t: 'awaiting-hello' }
  | { t: 'open'; session: string; generation: number; acked: number; inbox: string }
  | { t: 'closed' }

export class Connection implements Outlet {
  phase: Phase = { t: 'awaiting-hello' }
  readonly subs = new Map<string, Subscription>()
  /** Resolves when the socket is gone. */
  readonly closed: Promise<void>
  private queue: Promise<void> = Promise.resolve()
  private queuedBytes = 0
  private draining = false
  private readonly bucket: TokenBucket
  private readonly liveness: Liveness
  private readonly output: Output
  private lastPing: number
  private lastTouch: number
  private touching = false

  /** The upgrade request, kept only until `hello` takes it for `authorize`: an idle connection holding its
   * request (headers, raw headers, parser state) costs about a kilobyte more, for nothing. */
  private request: IncomingMessage | undefined

  constructor(
    readonly ws: WebSocket,
    request: IncomingMessage,
    readonly ctx: NodeContext,
  ) {
    this.request = request
    const socket = request.socket
    this.output = new Output(
      {
        send: (text, written) => ws.send(text, written && (() => written())),
        buffered: () => ws.bufferedAmount,
        onceDrained: (fn) => socket.once('drain', fn),
      },
      ctx.options.maxBufferedBytes,
      () => this.close(CloseCode.SLOW_CONSUMER, 'slow consumer: too much unsent output'),
    )
    const now = Date.now()
    this.lastPing = this.lastTouch = now
    this.liveness = new Liveness(now)
    this.bucket = new TokenBucket(ctx.options.rateLimit, now)
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()))
    ws.on('message', (data) => {
      try {
        this.onFrame(data as Buffer)
      } catch (e) {
        // Nothing a client sends may throw out of an event handler (that would crash the whole node).
        this.internalError(e)
      }
    })
    // ws reports protocol violations (oversized → 1009, bad UTF-8 → 1007) as errors and closes by itself.
    ws.on('error', (e) => ctx.log(`connection error: ${e.message}`))
    ws.once('close', () => {
      this.phase = { t: 'closed' }
      this.cleanup()
    })
  }

  /** The upgrade request, once (hello is the only frame that needs it). */
  takeRequest(): IncomingMessage | undefined {
    const request = this.request
    this.request = undefined
    return request
  }

  get session(): string | undefined {
    return this.phase.t === 'open' ? this.phase.session : undefined
  }

  private onFrame(data: Buffer): void {
    if (this.phase.t === 'closed') return
    const now = Date.now()
    // A frame read after this connection's liveness ran out sat in the socket buffer while this process was
    // frozen (SIGSTOP, a VM pause): after a thaw, Node may read sockets before it runs the timer that would have
    // closed the connection. Its client has given up on this socket, so nothing it said here may act now. (A
    // resume hello cannot claim late in any case: `hello.attempt` tells the store it is older than the claim
    // the session has now; see store/types.ts Claim.)
    if (this.liveness.silentFor(now) > this.ctx.options.timeoutMs) {
      return this.close(CloseCode.HEARTBEAT_TIMEOUT, `frame read ${this.liveness.silentFor(now)} ms after the last sign of life; not handled`)
    }
    this.liveness.frame(now)
    if (!this.bucket.take(now)) return this.refuse(ErrorCode.RATE_LIMITED, 'too many frames on this connection', CloseCode.RATE_LIMITED)
    const decoded = decodeClientFrame(data.toString('utf8'))
    if (decoded.ok && decoded.frame.t === 'ping') return this.send(encode({ t: 'pong' }))
    if (decoded.ok && decoded.frame.t === 'pong') return
    if (this.draining) return // not acked: the client resends it to the node it moves to
    if (this.queuedBytes + data.length > MAX_QUEUED_BYTES) {
      return this.refuse(ErrorCode.RATE_LIMITED, 'too much input queued on this connection', CloseCode.RATE_LIMITED)
    }
    // A bad frame is queued like a good one: frames before it still get their acks, in order, then the close.
    this.queuedBytes += data.length
    this.queue = this.queue
      .then(() => (this.phase.t === 'closed' ? undefined : this.handle(decoded, data.length)))
      .catch((e: unknown) => this.internalError(e))
      .finally(() => (this.queuedBytes -= data.length))
  }

  /** `bytes`: the frame's size, an upper bound of its data's that stores bounding retention by bytes can use. */
  private async handle(decoded: ReturnType<typeof decodeClientFrame>, bytes: number): Promise<void> {
    if (!decoded.ok) {
      const { code, message, seq } = decoded.error
      // Data too deep in a pub/send: that op is refused for good (its seq consumed), the connection goes on, so
      // the client's outbox does not resend it forever. Anything else malformed ends the connection.
      if (seq !== undefined && this.phase.t === 'open') return refuseOp(this, seq, { code, message })
      return this.refuse(code, message, CloseCode.BAD_FRAME)
    }
    const frame = decoded.frame
    if (frame.t === 'hello') {
      if (this.phase.t !== 'awaiting-hello') return this.refuse(ErrorCode.HELLO_EXPECTED, 'hello was already received on this connection', CloseCode.BAD_FRAME)
      if (frame.v !== PROTOCOL_VERSION) {
        return this.refuse(ErrorCode.UNSUPPORTED_VERSION, `protocol version ${frame.v} is not supported; this server speaks ${PROTOCOL_VERSION}`, CloseCode.UNSUPPORTED_VERSION)
      }
      return openSession(this, frame)
    }
    if (this.phase.t !== 'open') return this.refuse(ErrorCode.HELLO_EXPECTED, `expected hello as the first frame, got ${frame.t}`, CloseCode.BAD_FRAME)
    switch (frame.t) {
      case 'pub':
        return pub(this, frame, bytes)
      case 'send':
        return send(this, frame)
      case 'sub':
        return this.subscribe(frame.topic, frame.from ?? null)
      case 'unsub':
        this.subs.get(frame.topic)?.stop()
        this.subs.delete(frame.topic)
        return this.send(encode({ t: 'unsubscribed', topic: frame.topic }))
    }
  }

  /** Subscribe (or re-subscribe) `topic` from `from`. `@inbox` is always the caller's own. */
  subscribe(topic: string, from: { offset: number; epoch: string } | null): void {
    if (this.phase.t !== 'open') return
    if (topic !== INBOX_TOPIC && topic.startsWith('@')) {
      return this.send(encode({ t: 'error', code: ErrorCode.RESERVED_TOPIC, message: `topic ${topic} is reserved`, topic }))
    }
    this.subs.get(topic)?.stop()
    const max = this.ctx.options.maxSubscriptions
    // @inbox is the session's own and always there: it does not count against the limit.
    const counted = this.subs.size - (this.subs.has(INBOX_TOPIC) ? 1 : 0)
    if (topic !== INBOX_TOPIC && !this.subs.has(topic) && counted >= max) {
      const message = `cannot subscribe to ${topic}: at most ${max} topics per connection (besides @inbox)`
      return this.send(encode({ t: 'error', code: ErrorCode.TOO_MANY_SUBSCRIPTIONS, message, topic }))
    }
    const storeTopic = topic === INBOX_TOPIC ? this.phase.inbox : topic
    const sub = new Subscription(topic, storeTopic, this.ctx.store, this.ctx.hub, this)
    this.subs.set(topic, sub)
    void sub.start(from)
  }

  // ---------------------------------------------------------------- output (Outlet)

  send(text: string): void {
    if (this.phase.t === 'closed') return
    this.output.send(text)
  }

  sendAndWait(text: string): Promise<void> {
    if (this.phase.t === 'closed') return Promise.resolve()
    return new Promise((resolve) => this.output.send(text, resolve))
  }

  buffered(): number {
    return this.output.buffered
  }

  fail(error: unknown): void {
    this.ctx.log(`store failed: ${(error as Error)?.message ?? String(error)}`)
    this.refuse(ErrorCode.STORE_UNAVAILABLE, 'the store did not answer; reconnect and resume', CloseCode.STORE_UNAVAILABLE)
  }

  frame(frame: Frame): void {
    this.send(encode(frame))
  }

  /** An `error` frame, then the close: a client never waits on a socket that will say nothing more. */
  refuse(code: string, message: string, closeCode: number, extra: { seq?: number; topic?: string } = {}): void {
    if (this.phase.t === 'closed') return
    this.ws.send(encode({ t: 'error', code, message, ...extra }))
    this.close(closeCode, message)
  }

  close(code: number, reason: string): void {
    if (this.phase.t === 'closed') return
    this.phase = { t: 'closed' }
    this.cleanup()
    // Frames still waiting here are of no use to a client that is about to resume: its close frame goes first.
    this.output.drop()
    // A close reason is limited to 123 bytes by RFC 6455.
    try {
      this.ws.close(code, Buffer.from(reason).subarray(0, 123).toString())
    } catch {
      this.ws.terminate()
    }
    // A slow consumer is reading, only slowly: let it reach the close frame behind what the kernel holds.
    const grace = code === CloseCode.SLOW_CONSUMER ? SLOW_CLOSE_GRACE_MS : CLOSE_GRACE_MS
    setTimeout(() => this.ws.terminate(), grace).unref()
  }

  private internalError(e: unknown): void {
    this.ctx.log(`internal error: ${(e as Error)?.stack ?? String(e)}`)
    this.close(CloseCode.INTERNAL_ERROR, 'internal error')
  }

  // ---------------------------------------------------------------- lifecycle

  /** Called by the node's timer: ping, silence check, session touch. */
  tick(now: number): void {
    if (this.phase.t === 'closed') return
    const { heartbeatMs, timeoutMs, sessionTtlMs } = this.ctx.options
    this.liveness.output(now, this.output.buffered)
    if (this.liveness.silentFor(now) > timeoutMs) {
      return this.close(CloseCode.HEARTBEAT_TIMEOUT, `no frame for ${timeoutMs} ms and no output read`)
    }
    // No ping before the welcome: the first server frame a client sees is the answer to its hello.
    if (this.phase.t === 'open' && now - this.lastPing >= heartbeatMs) {
      this.lastPing = now
      this.send(encode({ t: 'ping' }))
    }
    // Touch at a quarter of the TTL: three touches can fail (store hiccup) before a live session expires.
    if (this.phase.t === 'open' && !this.touching && now - this.lastTouch >= sessionTtlMs / 4) {
      const { session, generation } = this.phase
      this.touching = true
      this.lastTouch = now
      this.ctx.store
        .touchSession(session, generation, sessionTtlMs)
        .then((ok) => {
          if (!ok) this.close(CloseCode.SESSION_MOVED, 'session moved to another connection or expired')
        })
        .catch(() => undefined) // a store hiccup: the next touch retries, well before the TTL
        .finally(() => (this.touching = false))
    }
  }

  /** Stop taking new frames and resolve when the queued ones are handled and acked (drain). */
  settle(): Promise<void> {
    this.draining = true
    return this.queue
  }

  terminate(): void {
    this.phase = { t: 'closed' }
    this.cleanup()
    this.ws.terminate()
  }

  private cleanup(): void {
    for (const sub of this.subs.values()) sub.stop()
    this.subs.clear()
    this.ctx.forget(this)
  }
}
