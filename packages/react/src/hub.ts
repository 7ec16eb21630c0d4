/**
 * What one <LifelineProvider> shares with its hooks: the client, and one feed per topic. Plain objects, no
 * React: the provider and the hooks only count their users in effects (mount/unmount), so the rules live here.
 *
 * One socket per provider, and none on a server: the client is made by the first user that needs it, in an
 * effect (effects never run during server rendering), and closed a tick after the last one is gone. StrictMode
 * mounts, unmounts and mounts every effect again at once; the second mount comes before that tick, cancels the
 * close, and keeps the same client. A topic's feed is shared and released the same way, so its subscription
 * is not torn down and replayed again either.
 */
import { createClient, type ClientOptions, type ClientState, type GapEvent, type LifelineClient, type LifelineError, type Message } from '@lifeline/sdk'

/** Messages a `useTopic` keeps when it does not say (`limit`): a screenful of a chat or a feed. */
export const DEFAULT_TOPIC_LIMIT = 100

/** Where a topic's subscription stands: confirmed by the server ('live'), refused ('failed', with `error`), or not yet. */
export type TopicStatus = 'subscribing' | 'live' | 'failed'

export interface TopicState<T = unknown> {
  /** The newest `limit` messages, oldest first, each offset once (the SDK's guarantee). */
  messages: Message<T>[]
  /** The topic's latest `gap` event, or null: messages it names are gone (see the SDK's `gap`). */
  gap: GapEvent | null
  status: TopicStatus
  /** Why the subscription failed, when `status` is 'failed'. */
  error?: LifelineError
}

/** Calls later than the current task, for StrictMode's unmount-and-mount-again to cancel. */
const later = (fn: () => void): ReturnType<typeof setTimeout> => setTimeout(fn, 0)

export class Feed<T = unknown> {
  /** Bumped on every change: what hooks re-render on. */
  version = 0
  status: TopicStatus = 'subscribing'
  error: LifelineError | undefined
  gap: GapEvent | null = null
  /** Kept: at most 2 × `capacity` between trims, so a trim costs O(1) per message. */
  private buffer: Message<T>[] = []
  private capacity = 0
  private users = 0
  private closing: ReturnType<typeof setTimeout> | undefined
  private readonly listeners = new Set<() => void>()
  private readonly offs: (() => void)[]

  constructor(
    private readonly client: LifelineClient<T>,
    readonly topic: string,
    from: 'latest' | 'earliest' | number | undefined,
    private presence: boolean,
    private readonly forget: () => void,
  ) {
    // Listening before subscribing: the replay `from` asks for follows the confirmation and is all caught.
    this.offs = [
      client.on('message', (m) => {
        if (m.topic !== topic) return
        this.buffer.push(m)
        if (this.buffer.length > 2 * this.capacity) this.buffer.splice(0, this.buffer.length - this.capacity)
        this.changed()
      }),
      client.on('gap', (g) => {
        if (g.topic === topic) (this.gap = g), this.changed()
      }),
    ]
    client.subscribe(topic, { ...(from === undefined ? {} : { from }), ...(presence ? { presence } : {}) }).then(
      () => ((this.status = 'live'), this.changed()),
      (error: LifelineError) => ((this.status = 'failed'), (this.error = error), this.changed()),
    )
  }

  /** The newest `limit` messages and the rest of the state, as a new object (for React state). */
  view(limit: number): TopicState<T> {
    const state: TopicState<T> = { messages: this.buffer.slice(-limit), gap: this.gap, status: this.status }
    if (this.error) state.error = this.error
    return state
  }

  listen(fn: () => void): () => void {
    this.listeners.add(fn)
    return () => void this.listeners.delete(fn)
  }

  /** One more user, keeping `limit` messages; `presence`: it wants the topic's presence events too. */
  acquire(limit: number, presence = false): void {
    clearTimeout(this.closing)
    this.users++
    this.capacity = Math.max(this.capacity, limit)
    // Asked again with presence, the SDK tells the server on the subscription it has (no second replay).
    if (presence && !this.presence) (this.presence = true), void this.client.subscribe(this.topic, { presence }).catch(() => {})
  }

  release(): void {
    if (--this.users > 0) return
    this.closing = later(() => {
      if (this.users > 0) return
      for (const off of this.offs) off()
      this.forget()
      if (this.status !== 'failed') void this.client.unsubscribe(this.topic)
    })
  }

  private changed(): void {
    this.version++
    for (const fn of [...this.listeners]) fn()
  }
}

export class Hub {
  private current: LifelineClient | undefined
  private users = 0
  private closing: ReturnType<typeof setTimeout> | undefined
  private readonly feeds = new Map<string, Feed>()
  private readonly listeners = new Set<() => void>()
  private offState: (() => void) | undefined
  private readonly notify = (): void => {
    for (const fn of [...this.listeners]) fn()
  }

  /** `given`: the app's own client (never made or closed here). `options`: for the one this provider makes. */
  constructor(
    private readonly given: LifelineClient | undefined,
    private readonly options: ClientOptions | undefined,
  ) {
    this.current = given
  }

  /** The client, once a user has needed it (never during server rendering, unless the app passed its own). */
  get client(): LifelineClient | undefined {
    return this.current
  }

  get state(): ClientState {
    return this.current?.state ?? 'connecting'
  }

  /** Re-render on: the client made or closed, and every change of its state. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn)
    return () => void this.listeners.delete(fn)
  }

  /** A user (the provider, a hook's effect) needs the client: made now if there is none. Call `unuse` when done. */
  use(): LifelineClient {
    clearTimeout(this.closing)
    this.users++
    let client = this.current
    if (!client) {
      if (!this.options) throw new TypeError('LifelineProvider: pass `client` or `options`')
      client = this.current = createClient(this.options)
    }
    if (!this.offState) {
      this.offState = client.on('state', this.notify)
      this.notify()
    }
    return client
  }

  unuse(): void {
    if (--this.users > 0) return
    this.closing = later(() => {
      if (this.users > 0) return
      this.offState?.()
      this.offState = undefined
      const made = this.current !== this.given ? this.current : undefined
      this.current = this.given
      this.feeds.clear()
      this.notify()
      void made?.close()
    })
  }

  /**
   * The topic's shared feed, for one more user (`releaseFeed` when done); `from` starts it when it is new.
   * `presence`: this user wants the topic's presence events (usePresence).
   */
  feed<T>(topic: string, from: 'latest' | 'earliest' | number | undefined, limit: number, presence = false): Feed<T> {
    const client = this.use() as LifelineClient<T>
    let feed = this.feeds.get(topic) as Feed<T> | undefined
    if (!feed) {
      const made: Feed<T> = new Feed(client, topic, from, presence, () => this.feeds.get(topic) === made && this.feeds.delete(topic))
      this.feeds.set(topic, (feed = made) as Feed)
    }
    feed.acquire(limit, presence)
    return feed
  }

  releaseFeed(feed: Feed<never>): void {
    feed.release()
    this.unuse()
  }
}
