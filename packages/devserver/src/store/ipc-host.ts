/**
 * Supervisor side of the IPC store: serves one Store to one node process. Call once per forked child;
 * the returned function detaches (and drops the child's live subscriptions).
 *
 * A frozen (SIGSTOPped) node must not block or bloat the host. `child.send` never blocks, but a stopped
 * reader lets its pipe fill and Node queues the rest in the host's memory. So live messages are counted until
 * they are flushed; past MAX_LIVE_BACKLOG the host stops queueing live messages for that node and remembers
 * only the newest one per topic. When the backlog has drained (the node woke), it sends those newest ones: the
 * node sees an offset skip ahead and reads the missing range from the store (node/subscription.ts does that
 * for every store). Nothing is lost; a frozen node costs the host at most MAX_LIVE_BACKLOG messages.
 */
import { applyOp } from './batch.js'
import { IPC_METHODS, IPC_TAG, isIpcMessage, type HostToNode, type IpcEndpoint, type IpcMethod } from './ipc-protocol.js'
import type { ApplyOp, Store, StoredMessage } from './types.js'

/** Live messages queued to one node before the host starts coalescing. 1,000: a second of a busy node. */
const MAX_LIVE_BACKLOG = 1_000

export function hostIpcStore(store: Store, child: IpcEndpoint): () => void {
  const subscriptions = new Map<string, () => void>()
  /** Newest live message per topic not sent while the node was behind. */
  const skipped = new Map<string, StoredMessage>()
  let backlog = 0
  let detached = false

  const send = (message: HostToNode, onFlushed?: () => void): void => {
    if (detached || child.connected === false || !child.send) return
    try {
      child.send(message, () => onFlushed?.())
    } catch {
      // The channel closed between the check and the send: the node is gone, nothing to deliver.
    }
  }

  const flushed = (): void => {
    backlog -= 1
    if (backlog > 0 || skipped.size === 0) return
    const newest = [...skipped.values()]
    skipped.clear()
    for (const message of newest) live(message)
  }

  const live = (message: StoredMessage): void => {
    if (backlog >= MAX_LIVE_BACKLOG) {
      skipped.set(message.topic, message)
      return
    }
    backlog += 1
    send({ lifeline: IPC_TAG, kind: 'live', message }, flushed)
  }

  const call = async (id: number, method: IpcMethod, args: unknown[]): Promise<void> => {
    try {
      const fn = store[method] as (...a: unknown[]) => Promise<unknown>
      const value = method === 'apply' ? await applyOp(store, args[0] as ApplyOp) : await fn.apply(store, args)
      send({ lifeline: IPC_TAG, kind: 'result', id, ok: true, value: value ?? null })
    } catch (e) {
      send({ lifeline: IPC_TAG, kind: 'result', id, ok: false, error: (e as Error)?.message ?? String(e) })
    }
  }

  const onMessage = (raw: unknown): void => {
    if (!isIpcMessage(raw)) return
    const m = raw as Record<string, unknown>
    if (m.kind === 'call' && typeof m.id === 'number' && Array.isArray(m.args) && IPC_METHODS.includes(m.method as IpcMethod)) {
      void call(m.id, m.method as IpcMethod, m.args)
    } else if (m.kind === 'sub' && typeof m.topic === 'string' && !subscriptions.has(m.topic)) {
      subscriptions.set(m.topic, store.subscribe(m.topic, live))
    } else if (m.kind === 'unsub' && typeof m.topic === 'string') {
      subscriptions.get(m.topic)?.()
      subscriptions.delete(m.topic)
      skipped.delete(m.topic)
    }
  }

  const detach = (): void => {
    if (detached) return
    detached = true
    child.off('message', onMessage)
    for (const unsubscribe of subscriptions.values()) unsubscribe()
    subscriptions.clear()
    skipped.clear()
  }
  child.on('message', onMessage)
  // A dead node's subscriptions must not keep costing the host a send per message.
  child.on('disconnect', detach)
  return detach
}
