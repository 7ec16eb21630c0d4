/**
 * Handing an upgraded connection to the node process instead of proxying it. The balancer reads the upgrade
 * request (it needs the `?sid=` to route), then passes the client's socket itself to the chosen node over the
 * IPC channel (the file descriptor travels, as Node's cluster module does with accepted connections), with the
 * request bytes it read. From then on the node reads and writes the client directly: no second TCP
 * connection, no byte copied through the supervisor. Why: proxying was most of the supervisor's CPU (55% of
 * it under steady load in the bench's profile, BENCHMARKS.md), and a reconnect herd queued behind it.
 *
 * The balancer keeps its own copy of the socket (`keepOpen`), never reading it, for what only it can do:
 *  - cut: shut the connection down (a FIN to the client) when health checks take a node out. The node may be
 *    frozen (SIGSTOP) and unable to close anything; HAProxy's `on-marked-down shutdown-sessions` does this.
 *  - re-route: a node that is draining refuses the connection without writing a byte, and the balancer passes
 *    the same socket to another node; the client never sees the refusal.
 *  - release: a TCP connection ends only when its last descriptor closes, so when the node reports the
 *    connection closed (or its process exits), the balancer closes its copy.
 *
 *   balancer → node  { lifeline:'conn', kind:'adopt', serial, head }  + the socket; head: the request, latin1
 *   node → balancer  { lifeline:'conn', kind:'identified', serial, session }  its welcome named the session
 *                    { lifeline:'conn', kind:'closed', serial }               the node's socket closed
 *                    { lifeline:'conn', kind:'refused', serial }              draining: nothing was written
 */
import type { ChildProcess } from 'node:child_process'
import type { Socket } from 'node:net'
import type { TunnelEvents } from './tunnel.js'

export const HANDOFF_TAG = 'conn'

export type HandoffToNode = { lifeline: typeof HANDOFF_TAG; kind: 'adopt'; serial: number; head: string }
export type HandoffFromNode =
  | { lifeline: typeof HANDOFF_TAG; kind: 'identified'; serial: number; session: string }
  | { lifeline: typeof HANDOFF_TAG; kind: 'closed' | 'refused'; serial: number }

export function isHandoffMessage(value: unknown): value is { lifeline: typeof HANDOFF_TAG; kind: string; serial: number } {
  const v = value as { lifeline?: unknown; serial?: unknown } | null
  return typeof v === 'object' && v !== null && v.lifeline === HANDOFF_TAG && typeof v.serial === 'number'
}

/** What the balancer needs of a backend it can hand connections to (one node process). */
export interface Handoff {
  /**
   * Pass `socket` (its upgrade request already read: `head` holds those bytes) to the node. Exactly one of
   * `refused` (not delivered: the caller may route elsewhere), `unavailable` (the node drains; same) or, after
   * any `identified`, `closed` follows.
   */
  pass(serial: number, socket: Socket, head: Buffer, on: TunnelEvents): void
}

/** The supervisor's end of one node process's handoffs. */
export class HandoffChannel implements Handoff {
  private readonly open = new Map<number, TunnelEvents>()
  private gone = false

  constructor(private readonly child: ChildProcess) {
    child.on('message', this.onMessage)
    // The process is gone: so are its descriptors; the balancer closes its copies and the clients learn it now.
    child.once('exit', () => this.end())
    child.once('disconnect', () => this.end())
  }

  pass(serial: number, socket: Socket, head: Buffer, on: TunnelEvents): void {
    if (this.gone || !this.child.connected) return on.refused(Object.assign(new Error('node process gone'), { code: 'ENOTCONN' }))
    stopReading(socket)
    // With `server` set, child_process tracks the socket across processes, and the balancer's server.close()
    // then waits for the node's connections to end (forever, with clients that reconnect). Our copy is counted
    // by the server (its `_server`) until we close it, which is what close() should wait for.
    ;(socket as unknown as { server: unknown }).server = null
    this.open.set(serial, on)
    const message: HandoffToNode = { lifeline: HANDOFF_TAG, kind: 'adopt', serial, head: head.toString('latin1') }
    this.child.send(message, socket, { keepOpen: true }, (err) => {
      if (!err || this.open.get(serial) !== on) return
      this.open.delete(serial)
      on.refused(err)
    })
  }

  private readonly onMessage = (raw: unknown): void => {
    if (!isHandoffMessage(raw)) return
    const m = raw as HandoffFromNode
    const on = this.open.get(m.serial)
    if (!on) return
    if (m.kind === 'identified') return on.identified(m.session)
    this.open.delete(m.serial)
    if (m.kind === 'refused') on.unavailable()
    else on.closed()
  }

  private end(): void {
    if (this.gone) return
    this.gone = true
    this.child.off('message', this.onMessage)
    const open = [...this.open.values()]
    this.open.clear()
    for (const on of open) on.closed()
  }
}

/**
 * The balancer's copy must never read: bytes it read would be lost to the node (the client's hello comes
 * right after the node's 101). `pause()` alone keeps the descriptor reading into the stream's buffer, so the
 * read is stopped on the handle itself, as net.Socket's own pause does for its `onread` mode.
 */
function stopReading(socket: Socket): void {
  socket.pause()
  const handle = (socket as unknown as { _handle?: { reading?: boolean; readStop?: () => number } | null })._handle
  if (!handle?.readStop) return
  handle.reading = false
  handle.readStop()
}

/**
 * Shut a handed-off connection down from the balancer's side: a FIN to the client even while the node still
 * holds its descriptor (frozen, say), then the copy closed. `destroy()` alone would only close our descriptor.
 */
export function cutHandedOff(socket: Socket): void {
  if (socket.destroyed) return
  const release = setTimeout(() => socket.destroy(), 1_000)
  release.unref()
  socket.once('finish', () => {
    clearTimeout(release)
    socket.destroy()
  })
  socket.end()
}
