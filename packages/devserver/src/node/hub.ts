/**
 * One live store subscription per topic per node, shared by every connection on the node that reads it:
 * the store (or the IPC host) sends each message to this node once, not once per client.
 */
import type { Store, StoredMessage } from '../store/types.js'

export type HubListener = (message: StoredMessage) => void

export class TopicHub {
  private readonly topics = new Map<string, { off: () => void; listeners: Set<HubListener> }>()

  constructor(private readonly store: Store) {}

  add(topic: string, listener: HubListener): () => void {
    let entry = this.topics.get(topic)
    if (!entry) {
      const listeners = new Set<HubListener>()
      const off = this.store.subscribe(topic, (m) => {
        for (const l of [...listeners]) l(m)
      })
      this.topics.set(topic, (entry = { off, listeners }))
    }
    const { listeners } = entry
    listeners.add(listener)
    return () => {
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
