/**
 * Disconnecting a user across the cluster (POST /_lifeline/v1/disconnect), whichever node their connections are
 * on. The request and the answers travel through the store's live fan-out, which every node already has:
 *
 *   the node asked                      every node (itself included)
 *   reads the live nodes (store.nodes)
 *   listens to DISCONNECTED
 *   appends { request, user } ───────▶ DISCONNECT: closes its connections of `user` (4441), then appends
 *                             ◀─────── { request, node, closed } to DISCONNECTED
 *   sums the answers until every live node answered, or `timeoutMs` passed
 *
 * Both are store topics starting with `@`, so no client can read or write them. A node that is frozen or cut
 * off from the store cannot answer; it is named in `unanswered`. Its clients lose it too (their heartbeat) and
 * reconnect elsewhere, where they are not closed: a disconnect is an event, not a ban. To keep a user out, stop
 * issuing them tokens (the SDK asks for a new one before it reconnects).
 */
import { randomUUID } from 'node:crypto'
import type { Store } from '../store/types.js'
import type { TopicHub } from './hub.js'

export const DISCONNECT_TOPIC = '@disconnect'
export const DISCONNECTED_TOPIC = '@disconnected'

export interface DisconnectResult {
  /** Connections closed, summed over the nodes that answered. */
  closed: number
  /** Live nodes that did not answer within the timeout (absent when every one did). */
  unanswered?: string[]
}

/**
 * Serve disconnect requests on this node: `close(user)` closes its connections of that user and returns how many.
 * Returns the function that stops serving.
 */
export function serveDisconnects(hub: TopicHub, store: Store, node: string, close: (user: string) => number, log: (line: string) => void): () => void {
  return hub.add(DISCONNECT_TOPIC, (m) => {
    const d = m.data as { request?: unknown; user?: unknown } | null
    if (typeof d?.request !== 'string' || typeof d.user !== 'string') return
    const closed = close(d.user)
    store.append(DISCONNECTED_TOPIC, { request: d.request, node, closed }).catch((e: unknown) => log(`disconnect ${d.request}: could not answer (${(e as Error)?.message ?? String(e)})`))
  })
}

/** Ask every live node to close `user`'s connections; resolves within `timeoutMs` of the request going out. */
export async function disconnectUser(hub: TopicHub, store: Store, user: string, timeoutMs: number): Promise<DisconnectResult> {
  const request = randomUUID()
  const expected = await store.nodes()
  const answers = new Map<string, number>()
  let settle: () => void = () => {}
  const all = new Promise<void>((resolve) => (settle = resolve))
  const check = (): void => {
    if (expected.every((n) => answers.has(n))) settle()
  }
  // Listening before the request goes out: no answer can come before we hear.
  const off = hub.add(DISCONNECTED_TOPIC, (m) => {
    const d = m.data as { request?: unknown; node?: unknown; closed?: unknown } | null
    if (d?.request !== request || typeof d.node !== 'string' || typeof d.closed !== 'number') return
    answers.set(d.node, d.closed)
    check()
  })
  let timer: NodeJS.Timeout | undefined
  try {
    await store.append(DISCONNECT_TOPIC, { request, user })
    check()
    await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
  } finally {
    clearTimeout(timer)
    off()
  }
  const closed = [...answers.values()].reduce((a, b) => a + b, 0)
  const unanswered = expected.filter((n) => !answers.has(n))
  return unanswered.length ? { closed, unanswered } : { closed }
}
