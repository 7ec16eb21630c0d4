/**
 * Live fan-out for the Redis store: turns Redis pub/sub (at-most-once, silent about what it dropped while a
 * connection was down) into the Store contract's "every message appended from now on, in offset order".
 *
 * Per topic it remembers the last offset delivered (and its epoch). A live message that is the next offset is
 * delivered at once; an older one is dropped; a newer one means messages were missed (store/dense.ts has the
 * one rule, shared with the node's subscriptions) (the subscriber
 * connection was down, or Redis restarted), so it is parked and the topic is synced: the missing offsets are
 * read from the log, then the parked messages are merged, in order, without a gap or a duplicate at the seam.
 * Every Redis reconnect syncs every topic, because a silent drop leaves no later message to reveal it.
 *
 * Pure of Redis: it takes a `LiveSource`, so its ordering logic is testable on its own.
 */
import { placeOf } from './dense.js'
import type { LiveListener, Resync, StoredMessage, TopicHead } from './types.js'

export interface LiveSource {
  head(topic: string): Promise<TopicHead>
  read(topic: string, from: number, limit: number): Promise<StoredMessage[]>
  /** Start receiving the topic's published messages; resolves once the subscription is in place. */
  listen(topic: string, onMessage: (message: StoredMessage) => void): Promise<void>
  unlisten(topic: string, onMessage: (message: StoredMessage) => void): Promise<void>
}

/** Log reads during a sync go in batches of this many: bounded memory per round trip. */
const SYNC_BATCH = 500
/** A sync stops after this many rounds and waits for the next reconnect or live message: never a busy loop. */
const MAX_SYNC_ROUNDS = 50

interface TopicState {
  topic: string
  listeners: Set<LiveListener>
  /** Told when a resync finds the log in a new epoch (see Resync in types.ts). */
  resyncs: Map<LiveListener, Resync>
  /** Position delivered so far; undefined until the first head is known. */
  epoch: string | undefined
  last: number | undefined
  /** Live messages parked while a sync runs or while the start position is unknown. */
  parked: StoredMessage[]
  syncing: boolean
  /** Set when something arrived during a sync that the current round may not have covered. */
  again: boolean
  /** The channel subscription is in place (node-redis re-subscribes it by itself after reconnects). */
  listening: boolean
  onMessage: (m: StoredMessage) => void
}

export class LiveFanout {
  readonly #source: LiveSource
  readonly #onError: (error: unknown) => void
  readonly #topics = new Map<string, TopicState>()

  constructor(source: LiveSource, onError: (error: unknown) => void) {
    this.#source = source
    this.#onError = onError
  }

  subscribe(topic: string, listener: LiveListener, resync?: Resync): () => void {
    let state = this.#topics.get(topic)
    if (!state) state = this.#open(topic)
    state.listeners.add(listener)
    if (resync) state.resyncs.set(listener, resync)
    return () => {
      const s = this.#topics.get(topic)
      s?.resyncs.delete(listener)
      if (s !== state || !s.listeners.delete(listener) || s.listeners.size > 0) return
      this.#topics.delete(topic)
      this.#source.unlisten(topic, s.onMessage).catch(this.#onError)
    }
  }

  /** After a reconnect: subscribe what failed to, and fill in whatever was published while the connection was down. */
  resyncAll(): void {
    for (const state of this.#topics.values()) {
      // Subscribed while Redis was down: "from now on" starts now, before anything else is sent.
      if (state.last === undefined) this.#anchor(state)
      if (state.listening) void this.#sync(state)
      else this.#listen(state)
    }
  }

  get topics(): number {
    return this.#topics.size
  }

  #open(topic: string): TopicState {
    const state: TopicState = {
      topic, listeners: new Set(), resyncs: new Map(), epoch: undefined, last: undefined, parked: [], syncing: true, again: false,
      listening: false, onMessage: (m) => this.#onLive(state, m),
    }
    this.#topics.set(topic, state)
    // "From now on" starts here: the head is asked for now (and Redis runs commands of one connection in
    // order, so any history the caller reads after this call starts at or after it), while the channel
    // subscription is set up in parallel. Whatever was appended between the two is read from the log by
    // the sync that follows, so nothing slips between them.
    this.#anchor(state)
    this.#listen(state)
    return state
  }

  /** Take the current head as the start, unless a start is already known. */
  #anchor(state: TopicState): void {
    this.#source.head(state.topic).then(
      (h) => {
        if (state.last !== undefined) return
        state.epoch = h.epoch
        state.last = h.last
      },
      () => undefined, // Redis down: resyncAll() anchors again after the reconnect.
    )
  }

  /** Subscribe the channel; once in place, sync. A failed SUBSCRIBE is retried by the next resyncAll(). */
  #listen(state: TopicState): void {
    state.syncing = true // park live messages until the sync has placed them
    this.#source.listen(state.topic, state.onMessage).then(
      () => {
        state.listening = true
        state.syncing = false
        void this.#sync(state)
      },
      (e: unknown) => {
        state.syncing = false
        this.#onError(e)
      },
    )
  }

  #onLive(state: TopicState, m: StoredMessage): void {
    if (this.#topics.get(state.topic) !== state) return
    if (!state.syncing) {
      const place = placeOf(state, m)
      if (place === 'seen') return
      if (place === 'next') {
        state.last = m.offset
        this.#emit(state, m)
        return
      }
    }
    state.parked.push(m)
    if (state.syncing) state.again = true
    else void this.#sync(state)
  }

  async #sync(state: TopicState): Promise<void> {
    if (state.syncing) {
      state.again = true
      return
    }
    state.syncing = true
    try {
      for (let round = 0; round < MAX_SYNC_ROUNDS; round++) {
        state.again = false
        await this.#catchUp(state)
        this.#drainParked(state)
        if (!state.again || this.#topics.get(state.topic) !== state) break
      }
    } catch (e) {
      this.#onError(e) // Redis went away mid-sync: parked messages stay; the reconnect runs resyncAll().
    } finally {
      state.syncing = false
    }
  }

  async #catchUp(state: TopicState): Promise<void> {
    const head = await this.#source.head(state.topic)
    if (state.last === undefined) {
      state.epoch = head.epoch
      state.last = head.last
      return
    }
    if (head.epoch !== state.epoch) {
      // The log was lost and restarted: deliver the new epoch from its start; listeners see the epoch change in
      // its messages, and are told now too, since the new log may stay empty and what the old one had not yet
      // published is gone (the found-by-simulation case: an inbox, quiet after a store restart).
      state.epoch = head.epoch
      state.last = 0
      for (const resync of [...state.resyncs.values()]) resync()
    }
    // Messages trimmed by retention before this node could read them cannot be delivered; listeners see
    // the offsets jump and the node's own resume logic answers clients with a gap.
    if (state.last < head.first - 1) state.last = head.first - 1
    while (state.last < head.last) {
      const batch = await this.#source.read(state.topic, state.last + 1, SYNC_BATCH)
      if (batch.length === 0) return
      for (const m of batch) {
        if (m.epoch !== state.epoch) {
          state.again = true // The epoch changed under this read: start the round over.
          return
        }
        if (m.offset !== state.last + 1) continue
        state.last = m.offset
        this.#emit(state, m)
      }
    }
  }

  #drainParked(state: TopicState): void {
    const parked = state.parked.sort((a, b) => a.offset - b.offset)
    state.parked = []
    for (const m of parked) {
      const place = placeOf(state, m)
      if (place === 'foreign' || place === 'unplaced') {
        // Either from a lost epoch (drop it) or from one newer than the head just read: then it is in the
        // log too (appended before it was published), and the next round reads it from there.
        state.again = true
      } else if (place === 'next') {
        state.last = m.offset
        this.#emit(state, m)
      } else if (place === 'ahead') {
        state.parked.push(m)
        state.again = true
      }
    }
  }

  #emit(state: TopicState, m: StoredMessage): void {
    for (const listener of [...state.listeners]) {
      try {
        listener(m)
      } catch (e) {
        this.#onError(e)
      }
    }
  }
}
