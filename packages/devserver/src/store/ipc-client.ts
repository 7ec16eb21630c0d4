/**
 * Node side of the IPC store: a Store whose calls travel to the supervisor's store (ipc-host.ts) over the
 * process's IPC channel. Live subscriptions are counted locally, so the host sends each message once per
 * node however many of this node's clients read the topic.
 *
 * Live delivery may skip ahead after the node was frozen (see ipc-host.ts); consumers read the skipped range
 * from the store, as node/subscription.ts does.
 */
import { IPC_TAG, isIpcMessage, type IpcEndpoint, type IpcMethod, type NodeToHost } from './ipc-protocol.js'
import { DelayLine, shapeOf } from '../faults/line.js'
import type { StoreImpairment } from '../faults/options.js'
import type { ApplyOp, ApplyResult, Claim, ClaimResult, LiveListener, OnceResult, PresenceMode, PresenceUser, SessionOwner, SessionRecord, Store, StoredMessage, TopicHead } from './types.js'

export interface IpcStoreOptions {
  /** The channel to the host. Default `process` (this process was forked with an IPC channel). */
  channel?: IpcEndpoint
  /**
   * How long a call waits for the host before it rejects. Default 5 s: the host answers from memory in
   * microseconds, so a silent host is stuck or gone; the node then answers STORE_UNAVAILABLE and the client's
   * outbox retries, instead of holding the client's op forever.
   */
  timeoutMs?: number
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }

export class IpcStore implements Store {
  /** The host applies a batch as its store does, or one seq at a time for a store that does not (store/batch.ts). */
  readonly appliesBatches = true
  private readonly channel: IpcEndpoint
  private readonly timeoutMs: number
  private readonly pending = new Map<number, Pending>()
  private readonly listeners = new Map<string, Set<LiveListener>>()
  private nextId = 1
  private closed = false
  /** Only while the link to the host is impaired (network faults: `impair`): each way, a delay line. */
  private link: { out: DelayLine<NodeToHost>; in: DelayLine<unknown> } | undefined

  constructor(options: IpcStoreOptions = {}) {
    this.channel = options.channel ?? (process as IpcEndpoint)
    if (!this.channel.send) throw new Error('IpcStore needs an IPC channel: start this process with fork() or use another store')
    this.timeoutMs = options.timeoutMs ?? 5_000
    this.channel.on('message', this.onMessage)
  }

  createSession(id: string, ttlMs: number, owner: SessionOwner): Promise<SessionRecord> {
    return this.call('createSession', [id, ttlMs, owner]) as Promise<SessionRecord>
  }
  claimSession(id: string, ttlMs: number, claim: Claim): Promise<ClaimResult> {
    return this.call('claimSession', [id, ttlMs, claim]) as Promise<ClaimResult>
  }
  touchSession(id: string, generation: number, ttlMs: number): Promise<boolean> {
    return this.call('touchSession', [id, generation, ttlMs]) as Promise<boolean>
  }
  apply(op: ApplyOp): Promise<ApplyResult> {
    return this.call('apply', [op]) as Promise<ApplyResult>
  }
  append(topic: string, data: unknown): Promise<StoredMessage> {
    return this.call('append', [topic, data]) as Promise<StoredMessage>
  }
  head(topic: string): Promise<TopicHead> {
    return this.call('head', [topic]) as Promise<TopicHead>
  }
  read(topic: string, from: number, limit: number): Promise<StoredMessage[]> {
    return this.call('read', [topic, from, limit]) as Promise<StoredMessage[]>
  }
  appendOnce(topic: string, data: unknown, once: { key: string; fingerprint: string; ttlMs: number }): Promise<OnceResult> {
    return this.call('appendOnce', [topic, data, once]) as Promise<OnceResult>
  }
  updatePresence(session: string, user: string, topics: string[], mode: PresenceMode): Promise<void> {
    return this.call('updatePresence', [session, user, topics, mode]) as Promise<void>
  }
  listPresence(topic: string): Promise<PresenceUser[]> {
    return this.call('listPresence', [topic]) as Promise<PresenceUser[]>
  }
  touchNode(node: string, ttlMs: number): Promise<void> {
    return this.call('touchNode', [node, ttlMs]) as Promise<void>
  }
  nodes(): Promise<string[]> {
    return this.call('nodes', []) as Promise<string[]>
  }

  subscribe(topic: string, listener: LiveListener): () => void {
    let set = this.listeners.get(topic)
    if (!set) {
      this.listeners.set(topic, (set = new Set()))
      // The channel is ordered: a call sent after this `sub` is answered after the host subscribed, so a
      // caller that subscribes and then reads the head misses nothing between the two.
      this.post({ lifeline: IPC_TAG, kind: 'sub', topic })
    }
    const entry: LiveListener = (m) => listener(m)
    set.add(entry)
    return () => {
      if (!set.delete(entry) || set.size > 0 || this.listeners.get(topic) !== set) return
      this.listeners.delete(topic)
      this.post({ lifeline: IPC_TAG, kind: 'unsub', topic })
    }
  }

  /**
   * Impair this node's link to the store (faults/options.ts StoreImpairment), or heal it with undefined: every
   * call, answer and live message is delayed, or held while blackholed (calls then time out after timeoutMs,
   * which the node answers as STORE_UNAVAILABLE). On heal what was held is delivered, in order.
   */
  impair(impairment: StoreImpairment | undefined): void {
    if (!impairment) {
      const link = this.link
      this.link = undefined
      link?.out.flush()
      link?.in.flush()
      return
    }
    const shape = shapeOf(impairment)
    if (!this.link) this.link = { out: new DelayLine<NodeToHost>(shape, (m) => this.postNow(m)), in: new DelayLine<unknown>(shape, (m) => this.receive(m)) }
    else {
      this.link.out.reshape(shape)
      this.link.in.reshape(shape)
    }
  }

  async close(): Promise<void> {
    this.link?.out.close()
    this.link?.in.close()
    this.link = undefined
    this.closed = true
    this.channel.off('message', this.onMessage)
    for (const [, p] of this.pending) {
      clearTimeout(p.timer)
      p.reject(new Error('IpcStore closed'))
    }
    this.pending.clear()
    this.listeners.clear()
  }

  private call(method: IpcMethod, args: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('IpcStore closed'))
    if (this.channel.connected === false) return Promise.reject(new Error('IPC channel to the store host is closed'))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`store host did not answer ${method} within ${this.timeoutMs} ms`))
      }, this.timeoutMs)
      this.pending.set(id, { resolve, reject, timer })
      this.post({ lifeline: IPC_TAG, kind: 'call', id, method, args })
    })
  }

  private post(message: NodeToHost): void {
    if (this.link) this.link.out.push(message, 0)
    else this.postNow(message)
  }

  private postNow(message: NodeToHost): void {
    try {
      // With a callback, a send on a closed channel reports to it instead of raising an unhandled 'error' event.
      this.channel.send?.(message, ignore)
    } catch {
      // Channel closed: pending calls time out into STORE_UNAVAILABLE; node/main.ts exits on disconnect anyway.
    }
  }

  private readonly onMessage = (raw: unknown): void => {
    if (!isIpcMessage(raw)) return
    if (this.link) this.link.in.push(raw, 0)
    else this.receive(raw)
  }

  private receive(raw: unknown): void {
    const m = raw as Record<string, unknown>
    if (m.kind === 'result' && typeof m.id === 'number') {
      const p = this.pending.get(m.id)
      if (!p) return
      this.pending.delete(m.id)
      clearTimeout(p.timer)
      if (m.ok === true) p.resolve(m.value)
      else p.reject(new Error(String(m.error)))
    } else if (m.kind === 'live') {
      const message = m.message as StoredMessage
      for (const listener of [...(this.listeners.get(message.topic) ?? [])]) {
        try {
          listener(message)
        } catch {
          // One listener's bug must not starve the others.
        }
      }
    }
  }
}

function ignore(): void {}
