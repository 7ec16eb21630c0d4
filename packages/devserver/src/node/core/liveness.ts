/**
 * When is a client silent? A frame from it is the plain sign of life. But a client far behind on a busy
 * stream reads our ping only after everything queued before it, so its pong can come later than the timeout
 * while it is working through its backlog the whole time. Output draining from the socket proves the peer is
 * reading, so it counts too; a dead or half-open peer drains nothing once the kernel's buffers are full, and
 * the slow-consumer bound (maxBufferedBytes) caps how much can pile up meanwhile.
 */
export class Liveness {
  private lastSign: number
  private lastBuffered = 0

  constructor(now: number) {
    this.lastSign = now
  }

  /** A frame arrived from the client. */
  frame(now: number): void {
    this.lastSign = now
  }

  /** Called on every tick with the socket's unsent output: less than last time means the peer read some. */
  output(now: number, bufferedAmount: number): void {
    if (bufferedAmount < this.lastBuffered) this.lastSign = now
    this.lastBuffered = bufferedAmount
  }

  silentFor(now: number): number {
    return now - this.lastSign
  }
}
