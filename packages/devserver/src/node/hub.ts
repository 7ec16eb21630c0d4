/**
 * One live store subscription per topic per node, shared by every connection on the node that reads it:
 * the store (or the IPC host) sends each message to this node once, not once per client.
 */
import type { Resync, Store, StoredMessage } from '../store/types.js'

export type HubListener = (message: StoredMessage) => void

/**
 * A listener with methods, as a connection is (socket.ts): the hub holds the object itself. Listening through
 * `add` costs two closures and the function that stops it, and their contexts, about 300 bytes per connection
 * and topic; an idle connection pays that for as long as it lives (the memory row).
 */
export interface HubMember {
  live(message: StoredMessage): void
  /** Live delivery of `topic` may have missed messages no later one reveals: see Resync in store/types.ts. */
  resync(topic: string): void
}

type Entry = { off: () => void; members: Set<HubMember> }

export class TopicHub {
  private readonly topics = new Map<string, Entry>()

  constructor(private readonly store: Store) {}

  /** `resync`: see Resync in store/types.ts. Returns the function that stops listening. */
  add(topic: string, listener: HubListener, resync?: Resync): () => void {
    const member: HubMember = { live: listener, resync: () => resync?.() }
    this.join(topic, member)
    return () => this.leave(topic, member)
  }

  /** `member` hears `topic` (once, however often it joins). */
  join(topic: string, member: HubMember): void {
    let entry = this.topics.get(topic)
    if (!entry) {
      const members = new Set<HubMember>()
      const off = this.store.subscribe(
        topic,
        (m) => {
          for (const l of [...members]) l.live(m)
        },
        () => {
          for (const r of [...members]) r.resync(topic)
        },
      )
      this.topics.set(topic, (entry = { off, members }))
    }
    entry.members.add(member)
  }

  /** `member` no longer hears `topic`; the store subscription ends with the topic's last member. */
  leave(topic: string, member: HubMember): void {
    const entry = this.topics.get(topic)
    if (!entry?.members.delete(member) || entry.members.size > 0) return
    this.topics.delete(topic)
    entry.off()
  }

  close(): void {
    for (const entry of this.topics.values()) entry.off()
    this.topics.clear()
  }
}
