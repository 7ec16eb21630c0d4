/**
 * Live proxied connections, indexed by node and by session: the counts least-connections routing reads, the
 * sockets to close when a node dies, and the answer to "which node serves session X now" (`nodeOf`).
 */
import type { Duplex } from 'node:stream'
import type { Socket } from 'node:net'
import { cutHandedOff } from './handoff.js'

export class Connection {
  /** Learned from the node's welcome frame; until then the `?sid=` the client asked for, if any. */
  sessionId: string | undefined
  upstream: Socket | undefined
  /** Passed to the node process (handoff.ts): the node holds the client's socket too, so closing ours is not enough. */
  handedOff = false
  private closed = false

  constructor(
    /** Increasing; the newest connection of a session is the one that serves it. */
    readonly serial: number,
    readonly nodeId: string,
    readonly client: Duplex,
    sid: string | undefined,
  ) {
    this.sessionId = sid
  }

  /** Both sockets, at once: the client sees its socket end in milliseconds and reconnects. Idempotent. */
  destroy(): void {
    if (this.closed) return
    this.closed = true
    if (this.handedOff) return cutHandedOff(this.client as Socket)
    this.client.destroy()
    this.upstream?.destroy()
  }
}

export class ConnectionTable {
  private serial = 0
  private readonly byNode = new Map<string, Set<Connection>>()
  private readonly bySession = new Map<string, Set<Connection>>()

  open(nodeId: string, client: Duplex, sid: string | undefined): Connection {
    const conn = new Connection(++this.serial, nodeId, client, sid)
    setOf(this.byNode, nodeId).add(conn)
    if (sid) setOf(this.bySession, sid).add(conn)
    return conn
  }

  /** The welcome named the session: re-index if it differs from the `?sid=` (new or expired session). */
  identify(conn: Connection, sessionId: string): void {
    if (conn.sessionId === sessionId) return
    if (conn.sessionId) removeFrom(this.bySession, conn.sessionId, conn)
    conn.sessionId = sessionId
    setOf(this.bySession, sessionId).add(conn)
  }

  forget(conn: Connection): void {
    removeFrom(this.byNode, conn.nodeId, conn)
    if (conn.sessionId) removeFrom(this.bySession, conn.sessionId, conn)
  }

  count(nodeId: string): number {
    return this.byNode.get(nodeId)?.size ?? 0
  }

  /** The node of the session's newest live connection (an older one may linger on a frozen node). */
  nodeOf(sessionId: string): string | undefined {
    let newest: Connection | undefined
    for (const conn of this.bySession.get(sessionId) ?? []) if (!newest || conn.serial > newest.serial) newest = conn
    return newest?.nodeId
  }

  /** Destroys every connection to `nodeId` (or every connection at all) and returns how many there were. */
  closeAll(nodeId?: string): number {
    const conns = nodeId === undefined ? [...this.byNode.values()].flatMap((s) => [...s]) : [...(this.byNode.get(nodeId) ?? [])]
    for (const conn of conns) {
      conn.destroy()
      this.forget(conn)
    }
    return conns.length
  }
}

function setOf<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key)
  if (!set) map.set(key, (set = new Set()))
  return set
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key)
  if (!set) return
  set.delete(value)
  if (set.size === 0) map.delete(key)
}
