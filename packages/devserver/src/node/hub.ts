/**
 * One live store subscription per topic per node, shared by every connection on the node that reads it:
 * the store (or the IPC host) sends each message to this node once, not once per client.
 */
import type { Resync, Store, StoredMessage } from '../store/types.js'

export type HubListener = (message: StoredMessage) => void

type Entry = { off: () => void; listeners: Set<HubListener>; resyncs: Map<HubListener, Resync> }

export class TopicHub {
  private readonly topics = new Map<string, Entry>()

  constructor(private readonly store: Store) {}

  /** `resync`: see Resync in store/types.ts. */
  add(topic: string, listener: HubListener, resync?: Resync): () => void {
    let entry = this.topics.get(topic)
    if (!entry) {
      const listeners = new Set<HubListener>()
      const resyncs = new Map<HubListener, Resync>()
      const off = this.store.subscribe(
        topic,
        (m) => {
          for (const l of [...listeners]) l(m)
        },
        () => {
          for (const r of [...resyncs.values()]) r()
        },
      )
      this.topics.set(topic, (entry = { off, listeners, resyncs }))
    }
    const { listeners, resyncs } = entry
    listeners.add(listener)
    if (resync) resyncs.set(listener, resync)
    return () => {
      resyncs.delete(listener)
      if (!listeners.delete(listener) || listeners.size > 0) return
      const current = this.topics.get(topic)
      if (current?.listeners !== listeners) return
      this.topics.delete(topic)
      current.off()
    }
  }

  close(): void {
    for (const entry of this.topics.values()) entry.off()
    this.topics.clear()
  }
}
