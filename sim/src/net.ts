/**
 * The simulated network between a client and a node: one link per WebSocket, ordered in each direction (it is
 * TCP), with a latency and jitter of its own, and the ways real links fail: cut (both ends learn it), half-open
 * (bytes stop, nobody is told), slowed.
 */
import type { Clock, Random } from './clock.js'

export interface LinkEnds {
  /** Client side: a text frame arrived. */
  toClient(text: string): void
  /** Client side: the socket closed with this code. */
  clientClosed(code: number, reason: string): void
  /** Node side: a text frame arrived. */
  toNode(text: string): void
  /** Node side: the socket is gone. */
  nodeClosed(): void
}

type Stage = { type: 'up' } | { type: 'half-open' } | { type: 'closed' }

export class Link {
  private stage: Stage = { type: 'up' }
  /** Extra latency while a latency fault holds, ms. */
  slow = 0
  /** Frames a node rejects with 1009 above this size (a node whose limit is lower than it announces). */
  frameLimit = Infinity
  private lastToNode = 0
  private lastToClient = 0
  ends!: LinkEnds

  constructor(
    readonly id: number,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly baseMs: number,
  ) {}

  get open(): boolean {
    return this.stage.type === 'up'
  }

  private delay(): number {
    return this.baseMs + this.slow + this.random.next() * (this.baseMs + this.slow / 2)
  }

  /** Client → node. */
  send(text: string): void {
    if (this.stage.type !== 'up') return
    if (text.length > this.frameLimit) return this.refuseTooBig()
    const at = (this.lastToNode = Math.max(this.lastToNode, this.clock.now + this.delay()))
    this.clock.at(at, () => this.stage.type === 'up' && this.ends.toNode(text))
  }

  /** Node → client. */
  reply(text: string): void {
    if (this.stage.type !== 'up') return
    const at = (this.lastToClient = Math.max(this.lastToClient, this.clock.now + this.delay()))
    this.clock.at(at, () => this.stage.type === 'up' && this.ends.toClient(text))
  }

  /** The node closes (after writing `final`): the client hears the code after what was in flight. */
  closeByNode(code: number, reason: string, final?: string): void {
    if (this.stage.type !== 'up') return
    if (final !== undefined) this.reply(final)
    this.stage = { type: 'closed' }
    const at = (this.lastToClient = Math.max(this.lastToClient, this.clock.now + this.delay()))
    this.clock.at(at, () => this.ends.clientClosed(code, reason))
  }

  /** The client closes: the node hears it after what was in flight. */
  closeByClient(): void {
    if (this.stage.type !== 'up') return
    this.stage = { type: 'closed' }
    const at = (this.lastToNode = Math.max(this.lastToNode, this.clock.now + this.delay()))
    this.clock.at(at, () => this.ends.nodeClosed())
  }

  /** Both ends learn the link died (a crash the balancer saw, a reset): 1006 to the client. */
  cut(): void {
    if (this.stage.type === 'closed') return
    this.stage = { type: 'closed' }
    this.clock.after(this.delay(), () => this.ends.clientClosed(1006, 'connection lost'))
    this.clock.after(this.delay(), () => this.ends.nodeClosed())
  }

  /** Bytes stop both ways and nobody is told: only heartbeats find out. */
  halfOpen(): void {
    if (this.stage.type === 'up') this.stage = { type: 'half-open' }
  }

  /** The client learns of a node that is gone without a close (the socket of a killed process), the node nothing. */
  cutClientOnly(): void {
    if (this.stage.type === 'closed') return
    this.stage = { type: 'closed' }
    this.clock.after(this.delay(), () => this.ends.clientClosed(1006, 'connection lost'))
  }

  private refuseTooBig(): void {
    this.stage = { type: 'closed' }
    this.clock.after(this.delay(), () => this.ends.clientClosed(1009, 'Max payload size exceeded'))
    this.clock.after(this.delay(), () => this.ends.nodeClosed())
  }
}
