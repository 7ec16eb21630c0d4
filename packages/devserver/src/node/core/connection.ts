/**
 * The connection core: everything a node decides about one client socket, with no socket, timer, clock or
 * store. Inputs go in through `handle(input, env)` (a frame, a store reply, a tick at `env.now`, a drain); what
 * should happen comes out as effects (types.ts) that the adapter (../socket.ts) carries out in order.
 *
 * One state union (`State`), changed only by `go()`. Frames are handled strictly one after another (`queue`,
 * with `current` the one whose store call or hook is in flight), so acks go out in seq order and a slow store
 * call delays this connection only. Subscriptions (subscription.ts) run beside the queue. Every path ends in a
 * frame or a close with a code.
 */
import { CloseCode, decodeClientFrame, encode, ErrorCode, INBOX_TOPIC, type Decoded, type ClientFrame, type From, type Hello, type Pub, type Query, type Send } from '@lifeline/protocol'
import { inboxTopic } from '../../store/inbox.js'
import { presenceTopic } from '../../store/presence.js'
import type { ApplyResult, ClaimResult, PresenceMode, PresenceUser, SessionRecord, StoredMessage } from '../../store/types.js'
import { verifyToken } from '../../security/token.js'
import { answerHistory } from './history.js'
import { helloRefusal, welcomeFrame } from './hello.js'
import { expired, mayPublish, maySubscribe, type Identity, type Verified } from './identity.js'
import { Liveness } from './liveness.js'
import { TokenBucket } from './rate-limit.js'
import { Subscription, type SubscriptionHost } from './subscription.js'
import { SmallMap } from './small-map.js'
import type { CoreConfig, Effect, Env, HandlerOutcome, Input, StoreCall, StoreReply } from './types.js'
import { applyVerdict, pubRefusal, seqVerdict, subRefusal, type Refusal } from './writes.js'

/** Input bytes queued behind a slow store before the connection is cut (4429): bounds memory per socket. */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024
/**
 * At most this many queued pubs in one apply (batchAfter): enough that a store round trip carries a burst,
 * small enough that one Redis script (each append is a handful of commands) stays well under a millisecond.
 */
export const MAX_BATCH = 64
/** …and at most this many bytes of frames, so a batch of large messages is not one huge script call. */
export const MAX_BATCH_BYTES = 256 * 1024

/** The session this connection holds, once its hello succeeded. */
export interface Held {
  session: string
  generation: number
  /** Highest seq applied, as far as this connection knows (it is the session's only writer). */
  acked: number
  /** The store topic behind this session's `@inbox`. */
  inbox: string
}

export type State =
  | { type: 'awaiting-hello' }
  | { type: 'open'; held: Held }
  /** Finishing what was received before the drain, then 1012. `held` is undefined if no hello succeeded. */
  | { type: 'draining'; held: Held | undefined }
  | { type: 'closed' }

type Queued = { decoded: Decoded<ClientFrame>; bytes: number }

/** `env` between inputs: nothing reads it then, and the last input's must not stay with an idle connection. */
const NO_ENV: Env = Object.freeze({ now: 0, buffered: 0 })

/**
 * Also the host of its own subscriptions (SubscriptionHost: call, send, buffered, awaitDrain, fail), with methods
 * rather than an object of five closures per subscription (about 380 bytes on every idle connection). Those are
 * for its subscriptions, called only while an input is handled; everything else goes through `handle`.
 */
export class ConnectionCore implements SubscriptionHost {
  state: State = { type: 'awaiting-hello' }
  private out: Effect[] = []
  private env: Env = NO_ENV
  /** Bytes sent during the current input: `env.buffered` does not know them yet. */
  private sentNow = 0
  private readonly queue: Queued[] = []
  private queuedBytes = 0
  /** The frame being handled; while `waiting`, its store call or hook is in flight and the queue waits. */
  private current: Queued | undefined
  private waiting = false
  private nextCall = 1
  /**
   * Store calls in flight, by id; undefined while there is none, which is most of an idle connection's life (an
   * empty Map still holds its table, about 200 bytes).
   */
  private replies: Map<number, (reply: StoreReply) => void> | undefined
  private authorized: ((verdict: { refusal: string | null; retry?: boolean }) => void) | undefined
  private verified: ((result: Verified) => void) | undefined
  /** Who the client is, from its verified token (auth configured); undefined on an open cluster. */
  private identity: Identity | undefined
  /** Presence store topic → the client topic whose `presence` events this connection forwards. */
  private watched: Map<string, string> | undefined
  private handled: { seq: number; then: (outcome: HandlerOutcome) => void } | undefined
  /** Subscriptions waiting for the output to drain; undefined while none is, as on an idle connection. */
  private drainWaiters: (() => void)[] | undefined
  private readonly subs = new SmallMap<string, Subscription>()
  private readonly liveness: Liveness
  private readonly bucket: TokenBucket
  private lastPing: number
  private lastTouch: number
  /** A touch is in flight (its reply will say whether the session is still ours). */
  private touchCall: number | undefined

  constructor(
    private readonly config: CoreConfig,
    now: number,
  ) {
    this.liveness = new Liveness(now)
    this.bucket = new TokenBucket(config.rateLimit, now)
    this.lastPing = this.lastTouch = now
  }

  /** The user of this connection's verified token, if any (the HTTP API's disconnect finds connections by it). */
  get user(): string | undefined {
    return this.identity?.user
  }

  /** The session this connection holds, if any. */
  get held(): Held | undefined {
    return this.state.type === 'open' || this.state.type === 'draining' ? this.state.held : undefined
  }

  /** Feed one input; returns the effects to carry out, in order. */
  handle(input: Input, env: Env): Effect[] {
    // Left over only when the last input threw: its effects are not carried out.
    if (this.out.length > 0) this.out = []
    this.env = env
    this.sentNow = 0
    this.step(input)
    const out = this.out
    // Neither is kept until the next input: an idle connection would hold its last effects (a ping) meanwhile.
    this.out = []
    this.env = NO_ENV
    return out
  }

  private step(i: Input): void {
    if (i.type === 'socket-closed') return this.end()
    if (this.state.type === 'closed') return
    switch (i.type) {
      case 'frame':
        return this.frame(i.text, i.bytes)
      case 'tick':
        return this.tick()
      case 'drain':
        if (this.state.type !== 'draining') this.go({ type: 'draining', held: this.held })
        return this.next()
      case 'store': {
        const then = this.replies?.get(i.id)
        if (this.replies?.delete(i.id) && this.replies.size === 0) this.replies = undefined
        return then?.(i)
      }
      case 'live': {
        const watched = this.watched?.get(i.message.topic)
        if (watched !== undefined) return this.presenceEvent(watched, i.message)
        return this.byStoreTopic(i.message.topic)?.live(i.message)
      }
      case 'resync':
        return this.byStoreTopic(i.topic)?.resync()
      case 'authorized': {
        const then = this.authorized
        this.authorized = undefined
        return then?.(i)
      }
      case 'verified': {
        const then = this.verified
        this.verified = undefined
        return then?.(i.result)
      }
      case 'disconnect':
        return this.close(CloseCode.DISCONNECTED, "disconnected by the app's backend; get a new token to reconnect")
      case 'handled': {
        const h = this.handled
        if (h?.seq !== i.seq) return
        this.handled = undefined
        return h.then(i.outcome)
      }
      case 'superseded':
        return this.close(CloseCode.SESSION_MOVED, 'session moved to a newer connection')
      case 'drained': {
        const waiters = this.drainWaiters ?? []
        this.drainWaiters = undefined
        for (const w of waiters) w()
        return
      }
    }
  }

  /** The one place the state changes. */
  private go(next: State): void {
    this.state = next
  }

  // ---------------------------------------------------------------- frames

  private frame(text: string, bytes: number): void {
    const now = this.env.now
    // A frame read after this connection's liveness ran out sat in the socket buffer while the process was
    // frozen (SIGSTOP, a VM pause): after a thaw, Node may read sockets before it runs the timer that would have
    // closed the connection. Its client has given up on this socket, so nothing it said here may act now. (A
    // resume hello cannot claim late in any case: `hello.attempt` tells the store it is older than the claim
    // the session has now; see store/types.ts Claim.)
    const silent = this.liveness.silentFor(now)
    if (silent > this.config.timeoutMs) return this.close(CloseCode.HEARTBEAT_TIMEOUT, `frame read ${silent} ms after the last sign of life; not handled`)
    this.liveness.frame(now)
    // Nothing a client says after its token's exp may act, even between two ticks.
    if (this.held && expired(this.identity, now)) return this.tokenExpired()
    if (!this.bucket.take(now)) return this.refuse(ErrorCode.RATE_LIMITED, 'too many frames on this connection', CloseCode.RATE_LIMITED)
    const decoded = decodeClientFrame(text)
    if (decoded.ok && decoded.frame.t === 'ping') return this.send(encode({ t: 'pong' }))
    if (decoded.ok && decoded.frame.t === 'pong') return
    if (this.state.type === 'draining') return // not acked: the client resends it to the node it moves to
    if (this.queuedBytes + bytes > MAX_QUEUED_BYTES) {
      return this.refuse(ErrorCode.RATE_LIMITED, 'too much input queued on this connection', CloseCode.RATE_LIMITED)
    }
    // A bad frame is queued like a good one: frames before it still get their acks, in order, then the close.
    this.queue.push({ decoded, bytes })
    this.queuedBytes += bytes
    this.next()
  }

  /** Handle queued frames until one has to wait (a store call, a hook) or the queue is empty. */
  private next(): void {
    while (!this.current && this.state.type !== 'closed') {
      const item = this.queue.shift()
      if (!item) {
        // Empty, but shift() leaves the array its backing store (about 150 bytes an idle connection would keep
        // after its hello): length 0 gives it back.
        this.queue.length = 0
        break
      }
      this.current = item
      this.process(item)
      if (this.current === item && !this.waiting) this.done(item)
    }
    if (!this.current && this.queue.length === 0 && this.state.type === 'draining') {
      this.close(CloseCode.SERVICE_RESTART, 'node draining; reconnect now')
    }
  }

  /** The current frame is finished: the next one may go. */
  private done(item: Queued): void {
    this.current = undefined
    this.queuedBytes -= item.bytes
  }

  /**
   * The current frame waits for an answer (a store reply, a hook's verdict): returns the function that takes
   * it. When `then` has run without starting another wait, the frame is done and the queue moves on.
   */
  private wait<T>(then: (value: T) => void): (value: T) => void {
    const item = this.current
    this.waiting = true
    return (value) => {
      if (!item || this.current !== item) return // closed meanwhile
      this.waiting = false
      then(value)
      if (!this.waiting && this.current === item) {
        this.done(item)
        this.next()
      }
    }
  }

  private process(item: Queued): void {
    const decoded = item.decoded
    if (!decoded.ok) {
      const { code, message, seq } = decoded.error
      // Data too deep in a pub/send: that op is refused for good (its seq consumed), the connection goes on, so
      // the client's outbox does not resend it forever. Anything else malformed ends the connection.
      if (seq !== undefined && this.held) return this.write(seq, () => this.commit(seq, [], { code, message }))
      return this.refuse(code, message, CloseCode.BAD_FRAME)
    }
    const frame = decoded.frame
    if (frame.t === 'hello') {
      if (this.held || this.state.type === 'closed') {
        return this.refuse(ErrorCode.HELLO_EXPECTED, 'hello was already received on this connection', CloseCode.BAD_FRAME)
      }
      return this.hello(frame)
    }
    if (!this.held) return this.refuse(ErrorCode.HELLO_EXPECTED, `expected hello as the first frame, got ${frame.t}`, CloseCode.BAD_FRAME)
    switch (frame.t) {
      case 'pub':
        return this.pub(frame, item.bytes)
      case 'send':
        return this.sendOp(frame)
      case 'sub':
        if (this.subscribe(frame.topic, frame.from ?? null, frame.presence === true)) this.present([frame.topic], 'add')
        return
      case 'unsub':
        if (this.unsubscribe(frame.topic)) this.present([frame.topic], 'remove')
        return this.send(encode({ t: 'unsubscribed', topic: frame.topic }))
      case 'auth':
        return this.refresh(frame.token)
      case 'query':
        return this.query(frame)
    }
  }

  // ---------------------------------------------------------------- queries

  /** A `query`: answered with a `result` or an `error` carrying its id. Kinds are added here, one case each. */
  private query(frame: Query): void {
    if (frame.topic !== undefined && !maySubscribe(this.identity, frame.topic)) {
      return this.send(encode({ t: 'error', code: ErrorCode.FORBIDDEN, message: `your token does not allow reading ${frame.topic}`, topic: frame.topic, id: frame.id }))
    }
    switch (frame.kind) {
      case 'history':
        return answerHistory(frame, frame.topic === INBOX_TOPIC ? this.held?.inbox : frame.topic, { call: (c, then) => void this.call(c, then), send: (t) => this.send(t) })
      case 'presence':
        return this.presenceQuery(frame)
      default:
        return this.send(encode({ t: 'error', code: ErrorCode.BAD_FRAME, message: `query.kind: unknown kind ${JSON.stringify(frame.kind)}`, id: frame.id }))
    }
  }

  /**
   * `presence`: who is in `topic` now. Fields: `topic`, required, not `@inbox` (only its own session reads it).
   * Answer: `result { id, value: { topic, users: [{ user, sessions }] } }` (store/types.ts PresenceUser), the
   * same shape as GET /_lifeline/v1/presence. Like history, it reads and does not hold the frame queue.
   */
  private presenceQuery(frame: Query): void {
    const { id, topic } = frame
    if (topic === undefined || topic === INBOX_TOPIC) {
      return this.send(encode({ t: 'error', code: ErrorCode.BAD_FRAME, message: 'query.topic: presence needs a shared topic', id }))
    }
    this.call({ method: 'listPresence', args: [topic] }, (r) => {
      if (!r.ok) return this.send(encode({ t: 'error', code: ErrorCode.STORE_UNAVAILABLE, message: `the store did not answer (${r.error}); ask again`, topic, id }))
      this.send(encode({ t: 'result', id, value: { topic, users: r.value as PresenceUser[] } }))
    })
  }

  // ---------------------------------------------------------------- auth and presence

  /**
   * An `auth` frame: a fresh token for this connection. Handled in the frame queue, so what the client sent after
   * it is judged by the new token's rights. Refused (an `error`, the connection and its current token go on)
   * when it does not verify or names another user: a session is one user's.
   */
  private refresh(token: string): void {
    if (!this.config.auth) return // a token for a server that takes none: nothing to do
    this.out.push({ type: 'verify', token })
    this.verified = this.wait((result: Verified) => {
      const refused = (why: string) => this.send(encode({ t: 'error', code: ErrorCode.UNAUTHORIZED, message: `token refresh refused (${why}); the connection keeps its current token until it expires` }))
      if (!result.ok) return refused(result.reason)
      if (result.identity.user !== this.identity?.user) return refused(`it is for user ${JSON.stringify(result.identity.user)}, this connection's is ${JSON.stringify(this.identity?.user)}`)
      this.identity = result.identity
    })
  }

  private tokenExpired(): void {
    this.refuse(ErrorCode.TOKEN_EXPIRED, 'your token expired; get a new one and reconnect (the session resumes)', CloseCode.TOKEN_EXPIRED)
  }

  /** Tell the store this session's presence changed (sessions without a user are in no presence). */
  private present(topics: string[], mode: PresenceMode): void {
    const held = this.held
    const user = this.identity?.user
    if (!held || user === undefined) return
    const shared = topics.filter((t) => t !== INBOX_TOPIC)
    if (shared.length === 0 && mode !== 'set') return
    this.call({ method: 'updatePresence', args: [held.session, user, shared, mode] }, (r) => {
      if (!r.ok) this.fail(r.error)
    })
  }

  /** A message of a watched presence log → a `presence` frame. */
  private presenceEvent(topic: string, m: StoredMessage): void {
    const d = m.data as { user?: unknown; joined?: unknown } | null
    if (typeof d?.user !== 'string' || typeof d.joined !== 'boolean') return
    this.send(encode({ t: 'presence', topic, user: d.user, joined: d.joined }))
  }

  // ---------------------------------------------------------------- hello

  private hello(frame: Hello): void {
    const refusal = helloRefusal(frame, this.config)
    if (refusal) return this.refuse(refusal.code, refusal.message, refusal.close)
    if (!this.config.auth) return this.openSession(frame)
    // Verified before the store is touched: a client without a valid token costs the store nothing.
    if (frame.token === undefined) return this.refuse(ErrorCode.UNAUTHORIZED, 'token missing: this server requires a JWT in hello.token', CloseCode.UNAUTHORIZED)
    this.out.push({ type: 'verify', token: frame.token })
    this.verified = this.wait((result: Verified) => {
      if (!result.ok) return this.refuse(ErrorCode.UNAUTHORIZED, `token refused: ${result.reason}`, CloseCode.UNAUTHORIZED)
      this.identity = result.identity
      this.openSession(frame)
    })
  }

  /**
   * The session is claimed or created: the app's authorize hook and connect webhook say yes or no (after the
   * claim, because the webhook is told the session and whether it resumed), then the welcome.
   */
  private admit(frame: Hello, record: SessionRecord, resumed: boolean, reset: 'expired' | 'taken' | undefined): void {
    if (!this.config.authorize) return this.welcome(frame, record, resumed, reset)
    const who = this.identity ? { user: this.identity.user, claims: this.identity.claims } : {}
    this.out.push({ type: 'authorize', hello: frame, session: record.id, resumed, ...who })
    this.authorized = this.wait(({ refusal, retry }) => {
      if (refusal === null) return this.welcome(frame, record, resumed, reset)
      if (retry) return this.refuse(ErrorCode.BACKEND_UNAVAILABLE, refusal, CloseCode.BACKEND_UNAVAILABLE)
      this.refuse(ErrorCode.UNAUTHORIZED, refusal, CloseCode.UNAUTHORIZED)
    })
  }

  private openSession(frame: Hello): void {
    if (!frame.resume) return this.create(frame, undefined)
    const token = verifyToken(this.config.secret, frame.resume.token)
    if (token === null) {
      return this.refuse(ErrorCode.INVALID_TOKEN, 'resume token is forged, malformed or from another cluster; start a new session', CloseCode.INVALID_TOKEN)
    }
    const claim = { presented: token.generation, instance: frame.instance, attempt: frame.attempt ?? 0, lastSeq: frame.resume.lastSeq, next: this.config.ids.generation() }
    this.frameCall({ method: 'claimSession', args: [token.session, this.config.sessionTtlMs, claim] }, (r) => {
      if (!r.ok) return this.fail(r.error)
      const result = r.value as ClaimResult
      // An older hello of the client that holds the session now (it waited in a buffer while the client moved
      // on): it claims nothing, and its socket is of no use to anyone.
      if (result.status === 'stale') return this.close(CloseCode.SESSION_MOVED, 'a newer connection of this client holds the session')
      if (result.status === 'claimed') return this.admit(frame, result.record, true, undefined)
      // A copy of another client's persisted state (a duplicated tab) or a store that lost newer claims: worth a
      // line, because the client is about to tell its app that its pending sends' fate is unknown.
      if (result.status === 'taken') this.log(`session ${token.session}: resume refused, its token is no longer current (a copy of another client's state?); new session`)
      this.create(frame, result.status === 'taken' ? 'taken' : 'expired')
    })
  }

  /** Unknown, expired or taken: a new session; `resumed: false` with `reset` tells the SDK to raise `reset`. */
  private create(frame: Hello, reset: 'expired' | 'taken' | undefined): void {
    const owner = { generation: this.config.ids.generation(), instance: frame.instance, attempt: frame.attempt ?? 0 }
    this.frameCall({ method: 'createSession', args: [this.config.ids.session(), this.config.sessionTtlMs, owner] }, (r) => {
      if (!r.ok) return this.fail(r.error)
      this.admit(frame, r.value as SessionRecord, false, reset)
    })
  }

  private welcome(frame: Hello, record: SessionRecord, resumed: boolean, reset: 'expired' | 'taken' | undefined): void {
    const held: Held = { session: record.id, generation: record.generation, acked: record.acked, inbox: inboxTopic(record.id) }
    this.go(this.state.type === 'draining' ? { type: 'draining', held } : { type: 'open', held })
    this.out.push({ type: 'own', session: record.id })
    this.send(encode(welcomeFrame(this.config, record, resumed, reset)))
    const watch = new Set(frame.presence ?? [])
    const subscribed = Object.keys(frame.subs).filter((topic) => this.subscribe(topic, frame.subs[topic] ?? null, watch.has(topic)))
    // Exactly these: a resumed session keeps (no leave, no join) what it asks for again, and leaves the rest.
    // (A new session is in nothing yet: nothing to tell when it asks for nothing.)
    if (resumed || subscribed.some((t) => t !== INBOX_TOPIC)) this.present(subscribed, 'set')
  }

  // ---------------------------------------------------------------- writes

  /** Run `then` if `seq` is the next one; a duplicate is acked at once (no handler re-run), a gap closes 4422. */
  private write(seq: number, then: () => void): void {
    const held = this.held!
    const v = seqVerdict(held.acked, seq)
    if (v.type === 'duplicate') return this.send(encode({ t: 'ack', seq: held.acked }))
    if (v.type === 'gap') return this.refuse(v.error, v.message, v.code)
    then()
  }

  /** `bytes`, the frame's size, bounds its data's: stores that bound retention by bytes can use it. */
  private pub(frame: Pub, bytes: number): void {
    const refusal = this.pubRefusal(frame)
    this.write(frame.seq, () => {
      if (refusal) return this.commit(frame.seq, [], refusal)
      const appends = [{ topic: frame.topic, data: frame.data, bytes }]
      this.commit(frame.seq, appends, undefined, this.batchAfter(frame.seq, appends))
    })
  }

  private pubRefusal(frame: Pub): Refusal | undefined {
    return pubRefusal(frame.topic) ?? (mayPublish(this.identity, frame.topic) ? undefined : forbidden('publishing to', frame.topic))
  }

  /**
   * The pubs queued right behind the one being applied join its apply (one store round trip for all of them,
   * one cumulative ack): the consecutive seqs that publish without a refusal, up to MAX_BATCH ops or
   * MAX_BATCH_BYTES of frames. A publisher that does not wait for each ack (the SDK sends its outbox as fast
   * as it fills) would otherwise get one apply per store round trip: 1/RTT messages a second on Redis.
   * Returns the last seq the apply covers; the absorbed frames' bytes stay counted until it is done.
   */
  private batchAfter(seq: number, appends: { topic: string; data: unknown; bytes: number }[]): number {
    const current = this.current
    let last = seq
    while (current && appends.length < MAX_BATCH) {
      const next = this.queue[0]
      if (!next?.decoded.ok || next.decoded.frame.t !== 'pub' || current.bytes + next.bytes > MAX_BATCH_BYTES) break
      const frame = next.decoded.frame
      if (frame.seq !== last + 1 || this.pubRefusal(frame)) break
      this.queue.shift()
      appends.push({ topic: frame.topic, data: frame.data, bytes: next.bytes })
      current.bytes += next.bytes
      last = frame.seq
    }
    return last
  }

  private sendOp(frame: Send): void {
    const held = this.held!
    this.write(frame.seq, () => {
      const user = this.identity?.user
      this.out.push({ type: 'handle', seq: frame.seq, data: frame.data, session: held.session, inbox: held.inbox, ...(user !== undefined ? { user } : {}) })
      this.handled = {
        seq: frame.seq,
        then: this.wait((outcome: HandlerOutcome) => {
          if (outcome.ok) return this.commit(frame.seq, outcome.appends)
          // Not applied and not acknowledged: the client resends it (same seq) once it reconnected.
          if (outcome.retry) return this.refuse(ErrorCode.BACKEND_UNAVAILABLE, `the send webhook did not answer: ${outcome.reason}; this send will be retried`, CloseCode.BACKEND_UNAVAILABLE)
          this.log(`onMessage threw for seq ${frame.seq}: ${outcome.reason}`)
          // Refused for good, its seq consumed and nothing it published applied. Retrying would not help: a
          // handler that throws on this data throws again on the resend, and every later send of the session
          // would wait behind it (a poison message). The SDK rejects this send with HANDLER_FAILED.
          this.commit(frame.seq, [], { code: ErrorCode.HANDLER_FAILED, message: `the server's message handler refused this send: ${outcome.reason}` })
        }),
      }
    })
  }

  /**
   * One apply of seqs `seq`..`through` (a batch of pubs, see batchAfter; one seq otherwise); a refused op still
   * consumes its seq (error frame with the seq, then the ack).
   */
  private commit(seq: number, appends: { topic: string; data: unknown; bytes?: number }[], refusal?: Refusal, through = seq): void {
    const held = this.held
    if (!held) return
    const user = this.identity?.user
    const op = { session: held.session, generation: held.generation, seq, ...(through !== seq ? { through } : {}), appends, ...(user !== undefined ? { from: user } : {}) }
    this.frameCall({ method: 'apply', args: [op] }, (r) => {
      if (!r.ok) {
        // Not acked: the op stays in the client's outbox and goes through once the store is back.
        this.log(`store apply failed: ${r.error}`)
        return this.refuse(ErrorCode.STORE_UNAVAILABLE, 'the store did not answer; this op was not applied', CloseCode.STORE_UNAVAILABLE, { seq })
      }
      const now = this.held
      if (!now) return
      const v = applyVerdict(r.value as ApplyResult, now.acked, seq, refusal, through)
      if (v.type === 'close') return v.error ? this.refuse(v.error, v.reason, v.code) : this.close(v.code, v.reason)
      now.acked = v.acked
      if (v.refusal) this.send(encode({ t: 'error', seq, ...v.refusal }))
      this.send(encode({ t: 'ack', seq: now.acked }))
    })
  }

  // ---------------------------------------------------------------- subscriptions

  /**
   * Subscribe (or re-subscribe) `topic` from `from`. `@inbox` is always the caller's own. `presence`: forward the
   * topic's presence events too. False when refused (an `error` frame with the topic says why).
   */
  private subscribe(topic: string, from: From | null, presence = false): boolean {
    const held = this.held
    if (!held) return false
    const refusal = subRefusal(topic) ?? (maySubscribe(this.identity, topic) ? undefined : forbidden('subscribing to', topic))
    if (refusal) {
      this.send(encode({ t: 'error', ...refusal }))
      return false
    }
    const max = this.config.maxSubscriptions
    // @inbox is the session's own and always there: it does not count against the limit.
    const counted = this.subs.size - (this.subs.has(INBOX_TOPIC) ? 1 : 0)
    if (topic !== INBOX_TOPIC && !this.subs.has(topic) && counted >= max) {
      const message = `cannot subscribe to ${topic}: at most ${max} topics per connection (besides @inbox)`
      this.send(encode({ t: 'error', code: ErrorCode.TOO_MANY_SUBSCRIPTIONS, message, topic }))
      return false
    }
    this.unsubscribe(topic)
    const storeTopic = topic === INBOX_TOPIC ? held.inbox : topic
    const sub = new Subscription(topic, storeTopic, this)
    this.subs.set(topic, sub)
    if (presence && topic !== INBOX_TOPIC) {
      this.watched ??= new Map()
      this.watched.set(presenceTopic(topic), topic)
      this.out.push({ type: 'listen', topic: presenceTopic(topic) })
    }
    // Live first, then the head: nothing appended between the two is missed (the store orders them).
    this.out.push({ type: 'listen', topic: storeTopic })
    sub.start(from)
    return true
  }

  /** Stop delivering `topic` (and its presence events); false when it was not subscribed. */
  private unsubscribe(topic: string): boolean {
    const sub = this.subs.get(topic)
    if (!sub) return false
    sub.stop()
    this.subs.delete(topic)
    this.out.push({ type: 'unlisten', topic: sub.storeTopic })
    if (this.watched?.delete(presenceTopic(topic))) this.out.push({ type: 'unlisten', topic: presenceTopic(topic) })
    return true
  }

  /**
   * The subscription a store topic feeds: a shared topic is its own store topic, @inbox is the session's inbox
   * log. A lookup rather than a second map: every idle connection would pay for that map (about 200 bytes).
   */
  private byStoreTopic(storeTopic: string): Subscription | undefined {
    const sub = this.subs.get(storeTopic) ?? this.subs.get(INBOX_TOPIC)
    return sub?.storeTopic === storeTopic ? sub : undefined
  }

  /** SubscriptionHost: output not yet sent, including what this input wrote. */
  buffered(): number {
    return this.env.buffered + this.sentNow
  }

  /** SubscriptionHost: run `then` once the output has drained. */
  awaitDrain(then: () => void): void {
    if (!this.drainWaiters) {
      this.drainWaiters = []
      this.out.push({ type: 'await-drain' })
    }
    this.drainWaiters.push(then)
  }

  // ---------------------------------------------------------------- lifecycle

  /** The node's timer: ping, silence check, session touch. */
  private tick(): void {
    const { now, buffered } = this.env
    const { heartbeatMs, timeoutMs, sessionTtlMs } = this.config
    this.liveness.output(now, buffered)
    if (this.liveness.silentFor(now) > timeoutMs) return this.close(CloseCode.HEARTBEAT_TIMEOUT, `no frame for ${timeoutMs} ms and no output read`)
    const held = this.held
    if (held && expired(this.identity, now)) return this.tokenExpired()
    // No ping before the welcome: the first server frame a client sees is the answer to its hello.
    if (held && now - this.lastPing >= heartbeatMs) {
      this.lastPing = now
      this.send(encode({ t: 'ping' }))
    }
    // Touch at a quarter of the TTL: three touches can fail (store hiccup) before a live session expires.
    if (held && this.touchCall === undefined && now - this.lastTouch >= sessionTtlMs / 4) {
      this.lastTouch = now
      this.touchCall = this.call({ method: 'touchSession', args: [held.session, held.generation, sessionTtlMs] }, (r) => {
        this.touchCall = undefined
        // A store hiccup: the next touch retries, well before the TTL.
        if (r.ok && r.value === false) this.close(CloseCode.SESSION_MOVED, 'session moved to another connection or expired')
      })
    }
  }

  /** The store failed under a hello or a subscription (SubscriptionHost). */
  fail(error: string): void {
    this.log(`store failed: ${error}`)
    this.refuse(ErrorCode.STORE_UNAVAILABLE, 'the store did not answer; reconnect and resume', CloseCode.STORE_UNAVAILABLE)
  }

  /** An `error` frame, then the close: a client never waits on a socket that will say nothing more. */
  private refuse(code: string, message: string, closeCode: number, extra: { seq?: number; topic?: string } = {}): void {
    if (this.state.type === 'closed') return
    this.close(closeCode, message, encode({ t: 'error', code, message, ...extra }))
  }

  private close(code: number, reason: string, final?: string): void {
    if (this.state.type === 'closed') return
    this.end()
    this.out.push(final === undefined ? { type: 'close', code, reason } : { type: 'close', code, reason, final })
  }

  /** Closed, by us or by the peer: nothing in flight matters any more. */
  private end(): void {
    if (this.state.type === 'closed') return
    this.go({ type: 'closed' })
    for (const topic of [...this.subs.keys()]) this.unsubscribe(topic)
    this.queue.length = 0
    this.current = undefined
    this.waiting = false
    this.replies = undefined
    this.authorized = undefined
    this.verified = undefined
    this.handled = undefined
    this.drainWaiters = undefined
  }

  // ---------------------------------------------------------------- effects

  /** Also SubscriptionHost's. */
  send(text: string): void {
    if (this.state.type === 'closed') return
    this.sentNow += text.length
    this.out.push({ type: 'send', text })
  }

  private log(line: string): void {
    this.out.push({ type: 'log', line })
  }

  /** Also SubscriptionHost's. */
  call(call: StoreCall, then: (reply: StoreReply) => void): number {
    const id = this.nextCall++
    this.replies ??= new Map()
    this.replies.set(id, then)
    this.out.push({ type: 'store', id, call })
    return id
  }

  /** A store call the current frame waits for. */
  private frameCall(call: StoreCall, then: (reply: StoreReply) => void): void {
    this.call(call, this.wait(then))
  }
}

/** What a token's `topics` claim does not allow: only that call is refused, the connection stays open. */
function forbidden(what: string, topic: string): Refusal {
  return { code: ErrorCode.FORBIDDEN, message: `your token does not allow ${what} ${topic}`, topic }
}
