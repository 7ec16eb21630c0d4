/**
 * A connection's outgoing frames. Frames go to the socket while it takes them; once the socket holds
 * SOCKET_HIGH_WATER bytes it has not sent, frames wait here instead, and move on as it drains. Why not let the
 * socket buffer everything (as `ws` does): a close frame is queued behind whatever is buffered, so a slow
 * consumer cut at 8 MiB heard its 1013 only after reading 8 MiB, and usually got a 1006 first. Frames held here
 * can be dropped at a frame boundary: past `maxBytes` the queue is dropped and the overflow handler closes the
 * connection, and its close frame goes out behind SOCKET_HIGH_WATER bytes at most (plus what the kernel holds).
 */

/** Unsent bytes the socket itself may hold: enough to keep a fast link busy between two drain events. */
export const SOCKET_HIGH_WATER = 256 * 1024

/** The socket as Output needs it. */
export interface Wire {
  /** Write one frame; `written` runs once it is handed to the kernel (or failed). */
  send(text: string, written?: () => void): void
  /** Bytes the socket holds that the kernel has not taken yet. */
  buffered(): number
  /** Run `fn` once, the next time the socket has drained. */
  onceDrained(fn: () => void): void
}

type Pending = { text: string; written: (() => void) | undefined }

export class Output {
  private queue: Pending[] = []
  private head = 0
  /** Characters held here (a frame's UTF-16 length: bytes for the ASCII-heavy JSON frames are about the same). */
  private held = 0
  private waiting = false

  constructor(
    private readonly wire: Wire,
    private readonly maxBytes: number,
    private readonly overflow: () => void,
  ) {}

  /** Everything not yet handed to the kernel: in the socket and here. */
  get buffered(): number {
    return this.wire.buffered() + this.held
  }

  send(text: string, written?: () => void): void {
    if (this.head === this.queue.length && this.wire.buffered() < SOCKET_HIGH_WATER) return this.wire.send(text, written)
    this.queue.push({ text, written })
    this.held += text.length
    if (this.buffered > this.maxBytes) return this.overflow()
    this.wait()
  }

  /** Forget what waits here (the connection is closing): callers waiting on a frame are released. */
  drop(): void {
    const dropped = this.queue.slice(this.head)
    this.queue = []
    this.head = 0
    this.held = 0
    for (const p of dropped) p.written?.()
  }

  private wait(): void {
    if (this.waiting) return
    this.waiting = true
    this.wire.onceDrained(() => {
      this.waiting = false
      this.flush()
    })
  }

  private flush(): void {
    while (this.head < this.queue.length && this.wire.buffered() < SOCKET_HIGH_WATER) {
      const p = this.queue[this.head]!
      this.queue[this.head++] = undefined as never
      this.held -= p.text.length
      this.wire.send(p.text, p.written)
    }
    if (this.head === this.queue.length) {
      this.queue = []
      this.head = 0
    } else this.wait()
  }
}
