/**
 * One connection's subscription to one topic: replay from the client's position, then live, with neither a
 * gap nor a duplicate at the seam.
 *
 * How: subscribe live first and buffer, read the head, then pump. The pump keeps one cursor (the last offset
 * sent). Offsets are dense, so every message is exactly `cursor + 1`: anything at or below the cursor was sent
 * already (dropped), anything above `cursor + 1` means a range is missing (read from the store, then go on).
 * The same rule covers the replay/live seam, a live stream that skipped (a node that was frozen, a Redis
 * reconnect) and a buffer that overflowed.
 *
 * Honest failure: if the client's position is out of retention or in another epoch, `subscribed` carries a
 * `gap`. If the log moves under an active subscription (store restarted: new epoch; or retention overtook a
 * slow catch-up), a second `subscribed` with `recovered: false` and the `gap` is sent, then delivery goes on.
 */
import { encode, type Gap, type Position } from '@lifeline/protocol'
import type { Store, StoredMessage, TopicHead } from '../store/types.js'
import type { TopicHub } from './hub.js'

/** Messages read per store call while catching up: big enough to amortise a round trip, small enough to interleave. */
const READ_BATCH = 256
/** Live messages held while catching up. Past it the buffer collapses to its newest message and the rest is re-read from the store. */
const MAX_LIVE_BUFFER = 10_000
/** During replay, wait for the socket to take what was written once this much is unsent, so a replay never outruns the client. */
const REPLAY_HIGH_WATER = 1024 * 1024

/** What a subscription needs from its connection. */
export interface Outlet {
  send(text: string): void
  /** Send and resolve when written to the socket (or failed: the connection's close handling takes over). */
  sendAndWait(text: string): Promise<void>
  buffered(): number
  /** The store failed under this subscription: the connection reports STORE_UNAVAILABLE and closes. */
  fail(error: unknown): void
}

/** `msg` frames of shared topics are encoded once per node per message, not once per client. */
const encoded = new WeakMap<StoredMessage, string>()
function msgText(m: StoredMessage, clientTopic: string): string {
  const shared = clientTopic === m.topic
  let text = shared ? encoded.get(m) : undefined
  if (text === undefined) {
    text = encode({ t: 'msg', topic: clientTopic, offset: m.offset, epoch: m.epoch, data: m.data })
    if (shared) encoded.set(m, text)
  }
  return text
}

export class Subscription {
  private cursor = 0
  private epoch = ''
  /** Highest offset known to exist that must be read from the store before the live buffer. */
  private target = 0
  private buffer: StoredMessage[] = []
  private ready = false
  private pumping = false
  private stopped = false
  private readonly off: () => void

  constructor(
    private readonly clientTopic: string,
    private readonly storeTopic: string,
    private readonly store: Store,
    hub: TopicHub,
    private readonly out: Outlet,
  ) {
    this.off = hub.add(storeTopic, this.onLive)
  }

  /** Start from the client's position (null/undefined: live from the head). Call once. */
  async start(from: Position | null | undefined): Promise<void> {
    try {
      const head = await this.store.head(this.storeTopic)
      if (this.stopped) return
      this.anchor(head, from ?? null)
      this.ready = true
      await this.pump()
    } catch (e) {
      if (!this.stopped) this.out.fail(e)
    }
  }

  stop(): void {
    this.stopped = true
    this.buffer = []
    this.off()
  }

  private readonly onLive = (m: StoredMessage): void => {
    if (this.stopped) return
    if (this.ready && !this.pumping && m.epoch === this.epoch && m.offset === this.cursor + 1) {
      this.deliver(m) // the steady state: next message, nothing pending
      return
    }
    if (this.ready && m.epoch === this.epoch && m.offset <= this.cursor) return
    this.buffer.push(m)
    if (this.buffer.length > MAX_LIVE_BUFFER) {
      // Too far behind to hold in memory: keep the newest, re-read everything before it from the store.
      const newest = this.buffer[this.buffer.length - 1]!
      if (newest.epoch === this.epoch) this.target = Math.max(this.target, newest.offset - 1)
      this.buffer = [newest]
    }
    if (this.ready && !this.pumping) void this.pumpSafely()
  }

  /** Place the cursor from the client's position and send `subscribed`. */
  private anchor(head: TopicHead, from: Position | null): void {
    let gap: Gap | undefined
    if (from === null) {
      this.cursor = head.last
    } else if (from.epoch !== head.epoch || from.offset > head.last) {
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
    this.sendSubscribed(head, gap)
  }

  private sendSubscribed(head: TopicHead, gap: Gap | undefined): void {
    this.out.send(
      encode({ t: 'subscribed', topic: this.clientTopic, offset: head.last, epoch: head.epoch, recovered: !gap, ...(gap ? { gap } : {}) }),
    )
  }

  private async pumpSafely(): Promise<void> {
    try {
      await this.pump()
    } catch (e) {
      if (!this.stopped) this.out.fail(e)
    }
  }

  private async pump(): Promise<void> {
    if (this.pumping) return
    this.pumping = true
    try {
      while (!this.stopped) {
        if (this.cursor < this.target) {
          await this.catchUp()
          continue
        }
        const m = this.buffer.shift()
        if (!m) break
        if (m.epoch !== this.epoch) await this.reanchor()
        else if (m.offset === this.cursor + 1) this.deliver(m)
        else if (m.offset > this.cursor + 1) {
          // Live skipped ahead: read the missing range first, then this message.
          this.target = m.offset - 1
          this.buffer.unshift(m)
        }
      }
    } finally {
      this.pumping = false
    }
  }

  private async catchUp(): Promise<void> {
    const batch = await this.store.read(this.storeTopic, this.cursor + 1, Math.min(READ_BATCH, this.target - this.cursor))
    if (this.stopped) return
    const first = batch[0]
    if (!first || first.offset !== this.cursor + 1 || first.epoch !== this.epoch) {
      await this.reanchor()
      return
    }
    for (const m of batch) {
      if (this.stopped || m.offset !== this.cursor + 1) break
      if (this.out.buffered() > REPLAY_HIGH_WATER) await this.out.sendAndWait(msgText(m, this.clientTopic))
      else this.out.send(msgText(m, this.clientTopic))
      this.cursor = m.offset
    }
  }

  /** The log moved under us (new epoch, or retention passed the cursor): say what was lost and go on from the head. */
  private async reanchor(): Promise<void> {
    const head = await this.store.head(this.storeTopic)
    if (this.stopped) return
    let gap: Gap | undefined
    if (head.epoch !== this.epoch) gap = { reason: 'epoch', from: 1, to: head.first - 1 }
    else if (this.cursor + 1 < head.first) gap = { reason: 'retention', from: this.cursor + 1, to: head.first - 1 }
    if (!gap) {
      // The head says the messages exist but the read did not return them: rather than skip silently, fail
      // the connection; the client resumes from its position and the replay starts over.
      if (head.last > this.cursor) throw new Error(`store read of ${this.storeTopic} from ${this.cursor + 1} disagrees with its head`)
      // Nothing was lost: what we were waiting for does not exist (yet), or was a late message of an old epoch.
      this.target = this.cursor
      this.buffer = this.buffer.filter((m) => m.epoch === this.epoch)
      return
    }
    this.epoch = head.epoch
    this.cursor = head.first - 1
    this.target = head.last
    this.buffer = this.buffer.filter((m) => m.epoch === head.epoch)
    this.sendSubscribed(head, gap)
  }

  private deliver(m: StoredMessage): void {
    this.out.send(msgText(m, this.clientTopic))
    this.cursor = m.offset
  }
}
