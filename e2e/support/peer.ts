/**
 * A Node-side participant (the SDK in Node 20 with the `ws` WebSocket): publishes a stream into a topic so
 * messages flow to the page while a node dies, and records everything the topic carried, so the specs can
 * check from outside the browser that each of the page's publishes landed exactly once.
 */
import { WebSocket } from 'ws'
import { createClient } from '@lifeline/sdk'
import type { Seen } from './tally.js'

type Options = Parameters<typeof createClient>[0]

export class Peer {
  readonly seen: Seen[] = []
  private constructor(private readonly client: ReturnType<typeof createClient>) {}

  /** Connects and subscribes to `topics` (live from now: start the peer before anything is published). */
  static async start(url: string, topics: string[]): Promise<Peer> {
    const client = createClient({ url, WebSocket } as unknown as Options)
    const peer = new Peer(client)
    client.on('message', ({ topic, offset, epoch, data }) => {
      const id = typeof data === 'object' && data !== null ? String((data as { id?: unknown }).id) : ''
      peer.seen.push({ topic, offset, epoch, id })
    })
    await Promise.all(topics.map((t) => client.subscribe(t)))
    return peer
  }

  /** Publishes `${prefix}-1` … `${prefix}-${count}`, one every `intervalMs`; resolves when all are applied. */
  async publish(topic: string, prefix: string, count: number, intervalMs: number): Promise<void> {
    const done: Promise<unknown>[] = []
    for (let i = 1; i <= count; i += 1) {
      done.push(this.client.publish(topic, { id: `${prefix}-${i}`, i, prefix }))
      if (intervalMs > 0 && i < count) await new Promise((resolve) => setTimeout(resolve, intervalMs))
    }
    await Promise.all(done)
  }

  get sessionId(): string | undefined {
    return this.client.sessionId ?? undefined
  }

  async close(): Promise<void> {
    await this.client.close()
  }
}
