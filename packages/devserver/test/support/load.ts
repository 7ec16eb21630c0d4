/**
 * A bounded load of real SDK clients through a cluster: every client subscribes to one topic, then publishes
 * numbered messages to it and `send`s numbered messages to its own inbox (echoed back by the node). One ledger
 * (src/testing/ledger.ts) counts both directions: client → server (each publish/send applied exactly once, or
 * its promise rejects) and server → client (each reader gets every message once, in order, or is told).
 * Client `c1` publishes stream `c1` to the topic and sends stream `c1:send` to its inbox.
 */
import { createClient, type WebSocketConstructor } from '@lifeline/sdk'
import WebSocket from 'ws'
import { Ledger, inboxOf, type Counts, type Tag } from '../../src/testing/ledger.js'
import { waitFor } from './wait.js'

export type Client = ReturnType<typeof createClient>

/** ws's constructor has an extra `(null)` overload that TypeScript will not match to the SDK's plain one. */
const NodeWebSocket = WebSocket as unknown as WebSocketConstructor

export interface LoadOptions {
  url: string
  /** Clients, each a publisher and a reader. Default 4. */
  clients?: number
  /** Publishes (and as many sends) per client. Default 150. */
  messages?: number
  /**
   * Between one client's messages. Default 20 ms: 4 clients × 50 publishes and 50 sends a second, fanned out to
   * every reader, is light enough for a shared 2-core machine that also runs the nodes, the store and vitest.
   */
  intervalMs?: number
  /** Default 'load'. */
  topic?: string
  /** Also count send() → inbox echoes. Default true. */
  sends?: boolean
  /** Extra createClient options (backoff, outbox …). */
  clientOptions?: Record<string, unknown>
}

export interface LoadClient {
  name: string
  client: Client
  /** Every state change with its time, for failover timings. */
  states: { to: string; at: number }[]
  /** Messages this client received (topic + inbox). */
  received: number
}

export class Load {
  readonly ledger = new Ledger()
  readonly clients: LoadClient[] = []
  /** Publishes/sends whose promise rejected, with the reason: each is a failure of exactly-once. */
  readonly failures: string[] = []
  private readonly inFlight = new Set<Promise<unknown>>()
  private readonly options: Required<Omit<LoadOptions, 'clientOptions'>> & Pick<LoadOptions, 'clientOptions'>

  constructor(options: LoadOptions) {
    this.options = { clients: 4, messages: 150, intervalMs: 20, topic: 'load', sends: true, ...options }
  }

  /** Creates the clients and subscribes each; resolves when all are subscribed. */
  async connect(): Promise<void> {
    for (let i = 1; i <= this.options.clients; i++) this.clients.push(this.newClient(`c${i}`))
    await Promise.all(this.clients.map((c) => c.client.subscribe(this.options.topic)))
  }

  /** Ticks issued so far (one publish, and one send, per client per tick). */
  tick = 0
  private stopped = false

  /**
   * Publishes (and sends) one message per client per tick, every `intervalMs`, up to `messages` ticks or until
   * stop(); resolves when the last was issued. `onTick` runs after each tick (to inject a fault at a given one).
   */
  async run(onTick?: (tick: number) => void): Promise<void> {
    while (!this.stopped && this.tick < this.options.messages) {
      this.tick++
      for (const c of this.clients) this.issue(c, this.tick)
      onTick?.(this.tick)
      await new Promise((resolve) => setTimeout(resolve, this.options.intervalMs))
    }
  }

  /** Ends run() after the current tick. */
  stop(): void {
    this.stopped = true
  }

  /** Waits until every promise settled and every reader has everything (or `timeoutMs`); then the counts. */
  async settle(timeoutMs = 15_000): Promise<Counts> {
    await waitFor(() => this.inFlight.size === 0 && this.ledger.complete(), 'every message delivered', timeoutMs).catch(() => {})
    return this.counts()
  }

  /** Both directions, every reader (the topic and each client's inbox). */
  counts(): Counts {
    return this.ledger.counts()
  }

  /** For each client that dropped out of `open` after `since`: ms from `since` until it was open again. */
  recoveryTimes(since: number): number[] {
    return this.outages(since).map((o) => o.leftAt + o.downMs)
  }

  /**
   * For each client that dropped out of `open` after `since`: when it noticed (`leftAt`, ms after `since`) and
   * how long it was down until open again (`downMs`), so a slow notice and a slow resume can be told apart.
   */
  outages(since: number): { name: string; leftAt: number; downMs: number }[] {
    const result: { name: string; leftAt: number; downMs: number }[] = []
    for (const c of this.clients) {
      const left = c.states.findIndex((s) => s.at >= since && s.to !== 'open')
      if (left < 0) continue
      const back = c.states.slice(left).find((s) => s.to === 'open')
      const leftAt = (c.states[left] as { at: number }).at
      if (back) result.push({ name: c.name, leftAt: leftAt - since, downMs: back.at - leftAt })
    }
    return result
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.client.close().catch(() => {})))
  }

  /**
   * A client with the ledger wired to its events; it reads the topic and its inbox from now (everything
   * published from here on is expected), though it subscribes to the topic only when the caller says so.
   */
  newClient(name: string, extra: Record<string, unknown> = {}): LoadClient {
    const client = createClient({ url: this.options.url, WebSocket: NodeWebSocket, ...this.options.clientOptions, ...extra })
    const entry: LoadClient = { name, client, states: [], received: 0 }
    this.ledger.reads(name, this.options.topic)
    this.ledger.reads(name, '@inbox')
    this.ledger.follow(name, client)
    client.on('message', () => void entry.received++)
    client.on('state', ({ to }) => entry.states.push({ to, at: Date.now() }))
    return entry
  }

  private issue(c: LoadClient, n: number): void {
    const published = { stream: c.name, n }
    this.ledger.sent(this.options.topic, published)
    this.track(c.client.publish(this.options.topic, published), published, `${c.name} publish ${n}`)
    if (!this.options.sends) return
    const sent = { stream: `${c.name}:send`, n }
    this.ledger.sent(inboxOf(c.name), sent)
    this.track(c.client.send(sent), sent, `${c.name} send ${n}`)
  }

  private track(promise: Promise<unknown>, tag: Tag, what: string): void {
    this.inFlight.add(promise)
    promise.then(
      () => {
        this.inFlight.delete(promise)
        this.ledger.settled(tag, 'resolved')
      },
      (e: { code?: string; message?: string }) => {
        this.inFlight.delete(promise)
        this.ledger.settled(tag, 'rejected')
        this.failures.push(`${what}: ${e?.code ?? ''} ${e?.message ?? String(e)}`)
      },
    )
  }
}

/** Connects `options.clients` clients, all subscribed. */
export async function startLoad(options: LoadOptions): Promise<Load> {
  const load = new Load(options)
  await load.connect()
  return load
}

/** p50 / max of a list of milliseconds, for the one-line summary. */
export function timing(ms: number[]): string {
  if (ms.length === 0) return 'none'
  const sorted = [...ms].sort((a, b) => a - b)
  const p50 = sorted[Math.floor((sorted.length - 1) / 2)] as number
  return `p50 ${p50}ms max ${sorted[sorted.length - 1]}ms (n=${sorted.length})`
}
