/**
 * One impaired client connection, in the node: the delay lines (faults/line.ts) between the connection's
 * adapter (socket.ts) and its WebSocket, one each way. A ClientSocket has one only while it is impaired; on heal
 * what is held flows and the link is dropped, so the connection is back on its direct path.
 *
 * Why at the WebSocket frame level rather than under it, on the TCP socket: everything the node says goes
 * through here as a frame, its heartbeat pings included, so a blackhole silences those (the client's heartbeat
 * timeout must notice a half-open link), and a close the node decides on (its own timeout of the silent client,
 * a 1013) is held like any frame, as a FIN would be lost on a dead link. The socket level would also shape the
 * WebSocket header bytes and control frames; bandwidth here counts payloads, and a close handshake the client
 * starts is answered by `ws` at once (under latency; a blackhole reads nothing, so there it waits too).
 *
 * Reading: a blackhole stops reading the socket (ws.pause), so the kernel's buffers fill and the client's writes
 * back up as behind a dead link, costing the node no memory; frames already read are held in the line. Under
 * latency frames are read and held for their delay, and reading pauses past INBOUND_HIGH_WATER bytes held.
 */
import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'
import type { ImpairOptions } from '../faults/options.js'
import { DelayLine, shapeOf, type LineClock, REAL_CLOCK } from '../faults/line.js'

/** Bytes of a client's frames held for their delay before the node stops reading that socket: a few frames' worth of a flood, bounded. */
export const INBOUND_HIGH_WATER = 1024 * 1024

type Out = { kind: 'frame'; text: string; written: (() => void) | undefined } | { kind: 'close'; code: number; reason: string } | { kind: 'terminate' }
type In = { text: string; bytes: number }

export class ClientLink {
  private readonly out: DelayLine<Out>
  private readonly in: DelayLine<In>
  private drainWaiters: (() => void)[] = []
  private paused = false

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket,
    impairment: ImpairOptions,
    /** A client frame that arrived, after its delay. */
    private readonly receive: (text: string, bytes: number) => void,
    clock: LineClock = REAL_CLOCK,
  ) {
    const shape = shapeOf(impairment)
    this.out = new DelayLine<Out>(shape, (o) => this.write(o), () => this.outDelivered(), clock)
    this.in = new DelayLine<In>(shape, (f) => this.receive(f.text, f.bytes), () => this.reading(), clock)
    this.reading()
  }

  /** Bytes the node sent that the client has not got yet (they count as the connection's unsent output). */
  get buffered(): number {
    return this.out.heldBytes
  }

  /** A new impairment, or undefined: heal, everything held flows now. Returns false once healed (drop the link). */
  impair(next: ImpairOptions | undefined): boolean {
    if (!next) {
      this.out.flush()
      this.in.flush()
      this.reading()
      const waiters = this.drainWaiters
      this.drainWaiters = []
      for (const fn of waiters) fn()
      return false
    }
    const shape = shapeOf(next)
    this.out.reshape(shape)
    this.in.reshape(shape)
    this.reading()
    return true
  }

  send(text: string, written?: () => void): void {
    this.out.push({ kind: 'frame', text, written }, Buffer.byteLength(text))
  }

  /** The node's close frame, behind the frames already sent. */
  close(code: number, reason: string): void {
    this.out.push({ kind: 'close', code, reason }, 0)
  }

  /** The node drops the connection (after its close grace): the FIN is held like any byte. */
  terminate(): void {
    this.out.push({ kind: 'terminate' }, 0)
  }

  /** A frame `ws` read from the client. */
  frame(text: string, bytes: number): void {
    this.in.push({ text, bytes }, bytes)
    this.reading()
  }

  /**
   * Runs `fn` once when output may have moved on: after the line delivered some (the socket takes the bytes
   * then), or, when the line holds nothing, on the socket's own drain.
   */
  onceDrained(fn: () => void): void {
    if (this.out.length === 0) return void this.socket.once('drain', fn)
    this.drainWaiters.push(fn)
  }

  /** The connection is gone: nothing held matters any more. */
  dispose(): void {
    this.out.close()
    this.in.close()
    this.drainWaiters = []
  }

  private write(o: Out): void {
    switch (o.kind) {
      case 'frame':
        return this.ws.send(o.text, o.written && (() => o.written?.()))
      case 'close':
        try {
          return this.ws.close(o.code, o.reason)
        } catch {
          return this.ws.terminate()
        }
      case 'terminate':
        return this.ws.terminate()
    }
  }

  private outDelivered(): void {
    const waiters = this.drainWaiters
    this.drainWaiters = []
    for (const fn of waiters) fn()
  }

  /** Read from the socket unless blackholed or too much is held already. */
  private reading(): void {
    const stop = this.in.blackholed || this.in.heldBytes > INBOUND_HIGH_WATER
    if (stop === this.paused) return
    this.paused = stop
    if (stop) this.ws.pause()
    else this.ws.resume()
  }
}
