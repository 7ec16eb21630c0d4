/**
 * The client the app holds: wires the pure session core to the socket (transport.ts), the timers, storage and
 * the app's listeners and promises. It decides nothing itself: every input goes to the core and every effect
 * the core returns is carried out here, in order. Effects are queued, so an app listener that calls back into
 * the client (publish inside a message handler) is handled after the current batch, never in the middle of it.
 */
import { SessionCore, type Effect, type Input, type TimerName } from './core.js'
import { Emitter, report } from './emitter.js'
import { aborted, type LifelineError } from './errors.js'
import { resolveOptions } from './options.js'
import { load, saveOutbox, saveSession } from './storage.js'
import { Transport } from './transport.js'
import type { CallOptions, ClientEvents, ClientOptions, ClientState, History, HistoryOptions, Message, PresenceUser, StorageLike, SubscribeOptions, Timers } from './types.js'

type Deferred = { resolve: (value?: unknown) => void; reject: (e: LifelineError) => void }

const realTimers: Timers = {
  // Looked up per call so that fake timers installed after createClient still apply.
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
}

export class LifelineClient<T = unknown> {
  readonly #core: SessionCore<T>
  readonly #transport: Transport
  readonly #events = new Emitter<ClientEvents<T>>()
  readonly #timers: Timers
  readonly #handles = new Map<TimerName, unknown>()
  readonly #subWaiters = new Map<string, Deferred[]>()
  readonly #storage: StorageLike | undefined
  readonly #key: string
  readonly #token: ClientOptions<T>['token']
  #queue: Effect<T>[] = []
  /** True while run() carries out the queue: a nested run() (an app listener calling back in) only adds to it. */
  #running = false
  readonly #onOnline = () => this.#run({ type: 'reconnect', why: 'online' })
  /** Wakes each waiting `messages()` iterator, so it ends at close(). */
  readonly #ends = new Set<() => void>()
  #closed = false

  constructor(options: ClientOptions<T>) {
    const o = resolveOptions(options)
    if (!options.WebSocket && typeof (globalThis as { WebSocket?: unknown }).WebSocket !== 'function') {
      throw new TypeError("createClient: no global WebSocket; on Node 20 pass `WebSocket` from the 'ws' package")
    }
    this.#timers = options.timers ?? realTimers
    this.#token = options.token
    this.#storage = options.persist
    this.#key = options.persistKey ?? `lifeline:${o.urls[0]}`
    this.#core = new SessionCore(o, this.#storage && load(this.#storage, this.#key))
    this.#transport = new Transport(options.WebSocket, {
      open: () => this.#run({ type: 'socket-open' }),
      text: (text) => this.#run({ type: 'socket-frame', text }),
      close: (code, reason) => this.#run({ type: 'socket-close', code, reason }),
    })
    ;(globalThis as Partial<EventTarget>).addEventListener?.('online', this.#onOnline)
    this.#run({ type: 'start' })
  }

  /** 'connecting' | 'open' | 'reconnecting' | 'closed'. */
  get state(): ClientState {
    return this.#core.state
  }
  /** The server's id for this session, once known (restored from `persist` before the first welcome). */
  get sessionId(): string | null {
    return this.#core.session.sessionId
  }
  /** Publishes and sends not yet acknowledged by the server. */
  get pending(): number {
    return this.#core.session.outbox.size
  }
  /** Bytes (UTF-8 JSON of data + topic) of the pending ones, counted against outbox.maxBytes. */
  get pendingBytes(): number {
    return this.#core.session.outbox.bytes
  }

  /** Resolves once the server confirmed the subscription (immediately if it already did). `from`: where it starts. */
  subscribe(topic: string, options: SubscribeOptions = {}): Promise<void> {
    const waiters = (): Deferred[] => this.#subWaiters.get(topic) ?? []
    return this.#call(
      options.signal,
      (d) => {
        this.#subWaiters.set(topic, [...waiters(), d])
        this.#run({ type: 'subscribe', topic, from: options.from, epoch: options.epoch, presence: options.presence })
      },
      (d) => {
        // Still waiting, so not confirmed yet: this call is withdrawn, and the subscription with it once no
        // other call waits for it (a confirmed subscription settled its callers and is ended by unsubscribe).
        const rest = waiters().filter((x) => x !== d)
        this.#subWaiters.set(topic, rest)
        d.reject(aborted())
        if (rest.length === 0) this.#run({ type: 'unsubscribe', topic })
      },
    )
  }

  /** Who is in `topic` now: each user with how many of their sessions are subscribed to it. */
  presence(topic: string, options: CallOptions = {}): Promise<PresenceUser[]> {
    return this.#ask('presence', { topic }, options).then((v) => (v as { users: PresenceUser[] }).users)
  }

  /** Stops delivery for `topic` at once and forgets its position. */
  unsubscribe(topic: string): Promise<void> {
    this.#run({ type: 'unsubscribe', topic })
    return Promise.resolve()
  }

  /** Resolves when the server applied it (exactly once, even across reconnects and reloads). */
  publish(topic: string, data: unknown, options: CallOptions = {}): Promise<void> {
    return this.#call(options.signal, (ticket) => this.#run({ type: 'publish', topic, data, ticket }))
  }

  /** Sends `data` to the server's handler; same guarantee as publish. */
  send(data: unknown, options: CallOptions = {}): Promise<void> {
    return this.#call(options.signal, (ticket) => this.#run({ type: 'send', data, ticket }))
  }

  /** The topic's retained messages, without subscribing. */
  history(topic: string, options: HistoryOptions = {}): Promise<History<T>> {
    return this.#call(options.signal, (ticket) => this.#run({ type: 'history', topic, from: options.from, limit: options.limit, ticket }))
  }

  /**
   * The topic's messages from this call on, as an async iterator (it buffers what it has not handed out
   * yet). It subscribes nothing: call subscribe() too. Ended by close() (after what it holds) or a `break`;
   * gaps and resets stay events.
   */
  messages(topic: string): AsyncGenerator<Message<T>, void, undefined> {
    const queue: Message<T>[] = []
    let wake = (): void => {}
    const off = this.on('message', (m) => {
      if (m.topic === topic) queue.push(m), wake()
    })
    const onClose = (): void => wake()
    this.#ends.add(onClose)
    const client = this
    return (async function* () {
      try {
        for (;;) {
          const m = queue.shift()
          if (m) yield m
          else if (client.#closed) return
          else await new Promise<void>((resolve) => (wake = resolve))
        }
      } finally {
        off()
        client.#ends.delete(onClose)
      }
    })()
  }

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof ClientEvents<T>>(event: K, fn: (payload: ClientEvents<T>[K]) => void): () => void {
    return this.#events.on(event, fn)
  }

  /** Connect again now, without backoff (also revives a client the server refused). */
  reconnect(): void {
    this.#run({ type: 'reconnect', why: 'app' })
  }

  /** Closes for good. Pending calls reject with CLIENT_CLOSED; with `persist` they stay stored for the next client. */
  close(): Promise<void> {
    ;(globalThis as Partial<EventTarget>).removeEventListener?.('online', this.#onOnline)
    this.#run({ type: 'close' })
    this.#closed = true
    for (const wake of this.#ends) wake()
    return Promise.resolve()
  }

  /**
   * A question of `kind` for the server (queries.ts), answered once: the promise resolves with the answer's
   * value, or rejects with the server's error. Asked again on the next connection if this one ends first.
   */
  #ask(kind: string, fields: object, options: CallOptions = {}): Promise<unknown> {
    return this.#call(options.signal, (ticket) => this.#run({ type: 'query', kind, fields, ticket }))
  }

  /** A call's promise with its `signal` wired: `start` gets the ticket; an abort runs `abort` (default: the core withdraws it if it can). */
  #call<V>(signal: AbortSignal | undefined, start: (d: Deferred) => void, abort?: (d: Deferred) => void): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      if (signal?.aborted) return reject(aborted())
      const onAbort = (): void => (abort ? abort(d) : this.#run({ type: 'abort', ticket: d }))
      const d: Deferred = {
        resolve: (value) => (signal?.removeEventListener('abort', onAbort), resolve(value as V)),
        reject: (e) => (signal?.removeEventListener('abort', onAbort), reject(e)),
      }
      signal?.addEventListener('abort', onAbort)
      start(d)
    })
  }

  #run(input: Input): void {
    this.#queue.push(...this.#core.handle(input))
    if (this.#running) return
    this.#running = true
    try {
      for (let e = this.#queue.shift(); e; e = this.#queue.shift()) this.#exec(e)
    } finally {
      this.#running = false
    }
  }

  #exec(e: Effect<T>): void {
    try {
      switch (e.type) {
        case 'fetch-token':
          return void this.#fetchToken()
        case 'connect':
          return this.#transport.connect(e.url)
        case 'disconnect':
          return this.#transport.disconnect(e.code, e.reason)
        case 'write':
          return this.#transport.write(e.text)
        case 'timer': {
          this.#timers.clearTimeout(this.#handles.get(e.name))
          this.#handles.delete(e.name)
          if (e.ms !== null) this.#handles.set(e.name, this.#timers.setTimeout(() => this.#fire(e.name), e.ms))
          return
        }
        case 'emit':
          return this.#events.emit(e.event, e.payload as never)
        case 'settle': {
          const d = e.ticket as Deferred
          return e.error ? d.reject(e.error) : d.resolve(e.value)
        }
        case 'subscribed': {
          const list = this.#subWaiters.get(e.topic) ?? []
          this.#subWaiters.delete(e.topic)
          for (const d of list) e.error ? d.reject(e.error) : d.resolve()
          return
        }
        case 'persist': {
          const s = this.#core.session
          if (!this.#storage) return
          if (e.part === 'outbox') return saveOutbox(this.#storage, this.#key, s.outbox.entries, s.outbox.lastSeq)
          return saveSession(this.#storage, this.#key, s.sessionId, s.token, s.positions.toJSON())
        }
      }
    } catch (err) {
      report(err) // a socket or storage that throws must not stop the effects after it
    }
  }

  /** The `token` option's current token, as a `token` input (a failure too: the core decides what it means). */
  async #fetchToken(): Promise<void> {
    const t = this.#token
    let input: Input
    try {
      input = { type: 'token', token: await (typeof t === 'function' ? t() : t) }
    } catch (e) {
      input = { type: 'token', error: String(e) }
    }
    this.#run(input)
  }

  #fire(name: TimerName): void {
    this.#handles.delete(name)
    this.#run({ type: 'timer', name })
  }
}

/** Create a client and start connecting. See README.md for every option and event. */
export function createClient<T = unknown>(options: ClientOptions<T>): LifelineClient<T> {
  return new LifelineClient(options)
}
