/**
 * One connection's subscription to one topic: replay from the client's position, then live, with neither a
 * gap nor a duplicate at the seam. Pure: store reads are asked of the host and answered later; live messages
 * are handed in; nothing here awaits.
 *
 * How: listen live first and buffer, read the head, then pump. The pump keeps one cursor (the last offset
 * sent). Offsets are dense, so every message is exactly `cursor + 1` (store/dense.ts): anything at or below the
 * cursor was sent already (dropped), anything above `cursor + 1` means a range is missing (read from the store,
 * then go on). The same rule covers the replay/live seam, a live stream that skipped (a node that was frozen, a
 * Redis reconnect) and a buffer that overflowed.
 *
 * Honest failure: if the client's position is out of retention or in another epoch, `subscribed` carries a
 * `gap`. If the log moves under an active subscription (a new epoch; or retention overtook a slow catch-up), a
 * second `subscribed` with `recovered: false` and the `gap` is sent, then delivery goes on.
 */
import { encode, type From, type Gap } from '@lifeline/protocol'
import { placeOf } from '../../store/dense.js'
import type { StoredMessage, TopicHead } from '../../store/types.js'
import type { StoreCall, StoreReply } from './types.js'

/** Messages read per store call while catching up: big enough to amortise a round trip, small enough to interleave. */
const READ_BATCH = 256
/** Live messages held while catching up. Past it the buffer collapses to its newest message and the rest is re-read from the store. */
const MAX_LIVE_BUFFER = 10_000
/** During replay, wait for the socket to take what was written once this much is unsent, so a replay never outruns the client. */
export const REPLAY_HIGH_WATER = 1024 * 1024

/** What a subscription needs from its connection core. */
export interface SubscriptionHost {
  call(call: StoreCall, then: (reply: StoreReply) => void): void
  send(text: string): void
  /** Output not yet sent, including what this step wrote. */
  buffered(): number
  /** Run `then` once the output has drained. */
  awaitDrain(then: () => void): void
  /** The store failed under this subscription: the connection reports STORE_UNAVAILABLE and closes. */
  fail(error: string): void
}

/** `msg` frames of shared topics are encoded once per node per message, not once per client. */
const encoded = new WeakMap<StoredMessage, string>()
function msgText(m: StoredMessage, clientTopic: string): string {
  const shared = clientTopic === m.topic
  let text = shared ? encoded.get(m) : undefined
  if (text === undefined) {
    text = encode(m.from === undefined ? { t: 'msg', topic: clientTopic, offset: m.offset, epoch: m.epoch, data: m.data } : { t: 'msg', topic: clientTopic, offset: m.offset, epoch: m.epoch, data: m.data, from: m.from })
    if (shared) encoded.set(m, text)
  }
  return text
}

type Stage =
  /** Waiting for the head that places the cursor. */
  | 'anchoring'
  /** Placed, nothing in flight: live messages are delivered or buffered, the pump runs when needed. */
  | 'idle'
  /** A store read, a head for a re-anchor, or the output's drain is awaited: the pump resumes after it. */
  | 'busy'
  | 'stopped'

export class Subscription {
  private stage: Stage = 'anchoring'
  private cursor = 0
  private epoch = ''
  /** Highest offset known to exist that must be read from the store before the live buffer. */
  private target = 0
  private buffer: StoredMessage[] = []
  /** A resync came while a store call was in flight: look at the head once it is done. */
  private recheck = false

  constructor(
    readonly clientTopic: string,
    readonly storeTopic: string,
    private readonly host: SubscriptionHost,
  ) {}

  /** Start from the client's position or start (protocol From; null: live from the head). The caller has started listening already. */
  start(from: From | null): void {
    this.host.call({ method: 'head', args: [this.storeTopic] }, (r) => {
      if (this.stage === 'stopped') return
      if (!r.ok) return this.host.fail(r.error)
      this.anchor(r.value as TopicHead, from)
      this.stage = 'idle'
      this.pump()
    })
  }

  stop(): void {
    this.stage = 'stopped'
    this.buffer = []
  }

  /** Live delivery may have missed something no later message reveals (Resync): check the head now or soon. */
  resync(): void {
    if (this.stage === 'idle') return this.reanchor(true)
    if (this.stage === 'busy') this.recheck = true
  }

  live(m: StoredMessage): void {
    const s = this.stage
    if (s === 'stopped') return
    const place = s === 'anchoring' ? 'unplaced' : placeOf({ epoch: this.epoch, last: this.cursor }, m)
    if (s === 'idle' && place === 'next') return this.deliver(m) // the steady state: next message, nothing pending
    if (place === 'seen') return
    this.buffer.push(m)
    if (this.buffer.length > MAX_LIVE_BUFFER) {
      // Too far behind to hold in memory: keep the newest, re-read everything before it from the store.
      const newest = this.buffer[this.buffer.length - 1]!
      if (newest.epoch === this.epoch) this.target = Math.max(this.target, newest.offset - 1)
      this.buffer = [newest]
    }
    if (s === 'idle') this.pump()
  }

  /** Place the cursor from the client's position (or start) and send `subscribed`. */
  private anchor(head: TopicHead, from: From | null): void {
    let gap: Gap | undefined
    // A start without a position ('earliest', an offset without an epoch): the client learns where the replay
    // begins from `after`, since it has no position to compare offsets with.
    const placed = from !== null && (from === 'earliest' || from.epoch === undefined)
    if (from === null) {
      this.cursor = head.last
    } else if (from === 'earliest') {
      this.cursor = head.first - 1
    } else if (from.epoch === undefined && from.offset > head.last) {
      this.cursor = head.last // an offset not written yet: live from now
    } else if (from.epoch !== undefined && (from.epoch !== head.epoch || from.offset > head.last)) {
      // Another epoch, or a position past the head (the log lost its tail and may reuse those offsets, e.g. a
      // store restored from an older snapshot): what the client read is gone. Say so, and start over from the
      // oldest retained message rather than risk skipping a reused offset silently.
      gap = { reason: 'epoch', from: 1, to: head.first - 1 }
      this.cursor = head.first - 1
    } else if (from.offset + 1 < head.first) {
      gap = { reason: 'retention', from: from.offset + 1, to: head.first - 1 }
      this.cursor = head.first - 1
    } else {
      this.cursor = from.offset
    }
    this.epoch = head.epoch
    this.target = head.last
    this.sendSubscribed(head, gap, placed ? this.cursor : undefined)
  }

  private sendSubscribed(head: TopicHead, gap: Gap | undefined, after?: number): void {
    this.host.send(
      encode({ t: 'subscribed', topic: this.clientTopic, offset: head.last, epoch: head.epoch, recovered: !gap, ...(gap ? { gap } : {}), ...(after === undefined ? {} : { after }) }),
    )
  }

  /** Move on until something must be waited for: a read, a re-anchor, the output's drain, or nothing to do. */
  private pump(): void {
    while (this.stage === 'idle') {
      if (this.cursor < this.target) return this.read()
      const m = this.buffer.shift()
      if (!m) return
      const place = placeOf({ epoch: this.epoch, last: this.cursor }, m)
      if (place === 'foreign') return this.reanchor()
      if (place === 'next') this.deliver(m)
      else if (place === 'ahead') {
        // Live skipped ahead: read the missing range first, then this message.
        this.target = m.offset - 1
        this.buffer.unshift(m)
      }
    }
  }

  private read(): void {
    this.stage = 'busy'
    const limit = Math.min(READ_BATCH, this.target - this.cursor)
    this.host.call({ method: 'read', args: [this.storeTopic, this.cursor + 1, limit] }, (r) => {
      if (this.stage === 'stopped') return
      if (!r.ok) return this.host.fail(r.error)
      const batch = r.value as StoredMessage[]
      const first = batch[0]
      if (!first || first.offset !== this.cursor + 1 || first.epoch !== this.epoch) return this.reanchor()
      for (const m of batch) {
        if (m.offset !== this.cursor + 1) break
        this.host.send(msgText(m, this.clientTopic))
        this.cursor = m.offset
      }
      if (this.host.buffered() <= REPLAY_HIGH_WATER) return this.resume()
      this.host.awaitDrain(() => this.stage !== 'stopped' && this.resume())
    })
  }

  /**
   * The log moved under us (new epoch, or retention passed the cursor): say what was lost and go on from the
   * head. `resync`: asked by the store rather than by a read that came back short, so a head past the cursor in
   * the same epoch is simply more to read.
   */
  private reanchor(resync = false): void {
    this.stage = 'busy'
    this.host.call({ method: 'head', args: [this.storeTopic] }, (r) => {
      if (this.stage === 'stopped') return
      if (!r.ok) return this.host.fail(r.error)
      const head = r.value as TopicHead
      let gap: Gap | undefined
      if (head.epoch !== this.epoch) gap = { reason: 'epoch', from: 1, to: head.first - 1 }
      else if (this.cursor + 1 < head.first) gap = { reason: 'retention', from: this.cursor + 1, to: head.first - 1 }
      if (!gap) {
        // The head says the messages exist but the read did not return them: rather than skip silently, fail
        // the connection; the client resumes from its position and the replay starts over.
        if (resync) {
          this.target = Math.max(this.target, head.last)
          return this.resume()
        }
        if (head.last > this.cursor) return this.host.fail(`store read of ${this.storeTopic} from ${this.cursor + 1} disagrees with its head`)
        // Nothing was lost: what we were waiting for does not exist (yet), or was a late message of an old epoch.
        this.target = this.cursor
        this.buffer = this.buffer.filter((m) => m.epoch === this.epoch)
        return this.resume()
      }
      this.epoch = head.epoch
      this.cursor = head.first - 1
      this.target = head.last
      this.buffer = this.buffer.filter((m) => m.epoch === head.epoch)
      this.sendSubscribed(head, gap)
      this.resume()
    })
  }

  private resume(): void {
    this.stage = 'idle'
    if (this.recheck) {
      this.recheck = false
      return this.reanchor(true)
    }
    this.pump()
  }

  private deliver(m: StoredMessage): void {
    this.host.send(msgText(m, this.clientTopic))
    this.cursor = m.offset
  }
}
