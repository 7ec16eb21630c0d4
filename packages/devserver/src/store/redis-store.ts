/**
 * The `redis` store: topic logs, session records and live fan-out in a real Redis, for clusters that span
 * machines. Passes the same contract suite as `memory` (test/store-contract.ts).
 *
 * Why node-redis (the `redis` package, v6) rather than ioredis: it is the client Redis recommends for new
 * projects (ioredis is still maintained, but new Redis features land in node-redis first), it supports
 * Node 20 (`engines: >=20`), its reconnect strategy, offline-queue switch and automatic re-subscription after
 * a reconnect are exactly the three knobs this store needs, and it is already the devserver's dependency.
 * Its README lists Redis 7.2+ as supported; the tests run it against Debian 12's Redis 7.0 (streams with
 * explicit IDs, XTRIM MINID and RESP3 are all 6.2+), and the store needs nothing newer.
 *
 * Availability: while Redis is unreachable every call rejects at once with a `StoreUnavailableError` (the
 * offline queue is off, so nothing is silently applied later); the node answers STORE_UNAVAILABLE and the
 * client's outbox keeps the message until Redis is back. The client reconnects by itself.
 */
import { randomBytes } from 'node:crypto'
import { APPEND, APPLY, CLAIM, HEAD, READ, TOUCH } from './redis-scripts.js'
import { APPEND_ONCE, NODE_TOUCH, NODES, PRESENCE_LIST, PRESENCE_SWEEP, PRESENCE_UPDATE } from './redis-backend.js'
import { makeClient, REDIS_DEFAULTS, StoreUnavailableError, type Client, type RedisStoreOptions, type Resolved } from './redis-client.js'
import { LiveFanout } from './redis-live.js'
import { ScriptRunner, type RedisLike } from './redis-run.js'
import { retentionWith } from './retention.js'
import type { ApplyOp, ApplyResult, Claim, ClaimResult, LiveListener, OnceResult, PresenceMode, PresenceUser, Resync, SessionOwner, SessionRecord, Store, StoredMessage, TopicHead } from './types.js'

export { REDIS_DEFAULTS, StoreUnavailableError, type RedisStoreOptions }

/** Connect to Redis at `url` (`redis://[user:pass@]host:port[/db]`) and return a Store. */
export async function createRedisStore(url: string, options: RedisStoreOptions = {}): Promise<RedisStore> {
  const o: Resolved = { ...REDIS_DEFAULTS, ...options, retention: retentionWith(options.retention) }
  const main = makeClient(url, o, true)
  // The subscriber keeps its offline queue: a SUBSCRIBE issued while Redis is down is sent on reconnect.
  const sub = makeClient(url, o, false)
  const store = new RedisStore(main, sub, o)
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Redis at ${url} not reachable within ${o.connectTimeoutMs} ms (check --store)`)),
      o.connectTimeoutMs,
    )
  })
  try {
    await Promise.race([Promise.all([main.connect(), sub.connect()]), timeout])
  } catch (e) {
    main.destroy()
    sub.destroy()
    throw e
  } finally {
    clearTimeout(timer)
  }
  return store
}

export class RedisStore implements Store {
  /** `apply` takes a batch (ApplyOp.through) as one script call. */
  readonly appliesBatches = true
  readonly #main: Client
  readonly #sub: Client
  readonly #o: Resolved
  readonly #run: ScriptRunner
  readonly #live: LiveFanout
  readonly #availability = new Set<(up: boolean) => void>()
  #up = false
  #closed = false
  readonly #sweep: NodeJS.Timeout

  constructor(main: Client, sub: Client, options: Resolved) {
    this.#main = main
    this.#sub = sub
    this.#o = options
    this.#run = new ScriptRunner(main as unknown as RedisLike, [
      APPLY, APPEND, HEAD, READ, CLAIM, TOUCH, APPEND_ONCE, PRESENCE_UPDATE, PRESENCE_LIST, PRESENCE_SWEEP, NODE_TOUCH, NODES,
    ])
    // Every node's store sweeps: each script is atomic, so two sweeps of one topic append each leave once.
    this.#sweep = setInterval(() => void this.sweepPresence().catch(() => undefined), options.presenceSweepMs)
    this.#sweep.unref()
    this.#live = new LiveFanout(
      {
        head: (t) => this.head(t),
        read: (t, from, limit) => this.read(t, from, limit),
        listen: (t, fn) => sub.subscribe(this.#channel(t), this.#decoder(fn)),
        // With the listener, not the bare channel: node-redis then marks the channel as unsubscribing, so a
        // SUBSCRIBE for the same topic issued before the UNSUBSCRIBE's reply is sent rather than merged into
        // the set this reply is about to delete.
        unlisten: (t, fn) => sub.unsubscribe(this.#channel(t), this.#decoder(fn)),
      },
      () => undefined, // Redis errors reach the availability listeners; a failed sync retries on reconnect.
    )
    main.on('ready', () => this.#run.load()) // registered first: SCRIPT LOAD goes out before anything else
    for (const c of [main, sub]) {
      // node-redis throws an unhandled 'error' if nobody listens; connection errors are reported as availability.
      c.on('error', () => this.#update())
      c.on('end', () => this.#update())
      c.on('ready', () => {
        this.#update()
        // Either connection coming back may mean missed live messages (sub) or failed syncs (main).
        if (this.#up) this.#live.resyncAll()
      })
    }
  }

  onAvailability(listener: (up: boolean) => void): () => void {
    this.#availability.add(listener)
    return () => this.#availability.delete(listener)
  }

  async createSession(id: string, ttlMs: number, owner: SessionOwner): Promise<SessionRecord> {
    const expiresAt = Date.now() + ttlMs
    const key = this.#key('s:', id)
    // `instance` is '' when the client sent none: Lua compares it only when the claimant's is non-empty.
    const fields = { acked: 0, generation: owner.generation, base: 0, expiresAt, instance: owner.instance ?? '', attempt: owner.attempt }
    await this.#call(() => this.#main.multi().del(key).hSet(key, fields).pExpire(key, ttlMs).exec())
    return { id, acked: 0, generation: owner.generation, expiresAt }
  }

  async claimSession(id: string, ttlMs: number, claim: Claim): Promise<ClaimResult> {
    const expiresAt = Date.now() + ttlMs
    const args = [ttlMs, expiresAt, claim.presented, claim.instance ?? '', claim.lastSeq, claim.next, claim.attempt]
    const r = (await this.#script(CLAIM, [this.#key('s:', id)], args)) as (string | number)[]
    if (r[0] === 'unknown') return { status: 'unknown' }
    if (r[0] === 'taken' || r[0] === 'stale') return { status: r[0] }
    return { status: 'claimed', record: { id, acked: Number(r[1]), generation: claim.next, expiresAt } }
  }

  async touchSession(id: string, generation: number, ttlMs: number): Promise<boolean> {
    const r = await this.#script(TOUCH, [this.#key('s:', id)], [generation, ttlMs, Date.now() + ttlMs])
    return Number(r) === 1
  }

  async apply(op: ApplyOp): Promise<ApplyResult> {
    const keys = [this.#key('s:', op.session)]
    const args: (string | number)[] = [...this.#prelude(), this.#channel(''), op.generation, op.seq, op.through ?? op.seq]
    const data = op.appends.map((a) => toJson(a.data))
    op.appends.forEach((a, i) => {
      keys.push(this.#key('m:', a.topic), this.#key('l:', a.topic))
      args.push(a.topic, data[i]!)
    })
    args.push(op.from ?? '')
    const r = (await this.#script(APPLY, keys, args)) as (string | number)[]
    switch (r[0]) {
      case 'applied': {
        const time = Number(r[1])
        const messages = op.appends.map((a, i): StoredMessage => ({
          topic: a.topic, epoch: String(r[2 + 2 * i]), offset: Number(r[3 + 2 * i]), data: a.data, time,
          ...(op.from !== undefined ? { from: op.from } : {}),
        }))
        return { status: 'applied', messages }
      }
      case 'duplicate':
        return { status: 'duplicate' }
      case 'seq-gap':
        return { status: 'seq-gap', acked: Number(r[1]) }
      case 'stale-generation':
        return { status: 'stale-generation' }
      case 'unknown-session':
        return { status: 'unknown-session' }
      default:
        throw new Error(`unexpected reply from the apply script: ${JSON.stringify(r)}`)
    }
  }

  async append(topic: string, data: unknown): Promise<StoredMessage> {
    const r = (await this.#script(APPEND, this.#topicKeys(topic), [
      ...this.#prelude(), this.#channel(topic), topic, toJson(data),
    ])) as [number, string, number]
    return { topic, time: Number(r[0]), epoch: String(r[1]), offset: Number(r[2]), data }
  }

  async head(topic: string): Promise<TopicHead> {
    const r = (await this.#script(HEAD, this.#topicKeys(topic), this.#prelude())) as [string, number, number]
    return { epoch: String(r[0]), last: Number(r[1]), first: Number(r[2]) }
  }

  async read(topic: string, from: number, limit: number): Promise<StoredMessage[]> {
    if (limit <= 0) return []
    const r = (await this.#script(READ, this.#topicKeys(topic), [
      ...this.#prelude(), Math.max(0, Math.floor(from)), Math.floor(limit),
    ])) as [string | null, [string, string[]][]?]
    const epoch = r[0]
    if (!epoch) return []
    return (r[1] ?? []).map(([id, fields]) => {
      const f: Record<string, string> = {}
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!
      const m: StoredMessage = { topic, epoch, offset: Number.parseInt(id, 10), data: JSON.parse(f.d!) as unknown, time: Number(f.ts) }
      if (f.f !== undefined) m.from = f.f
      return m
    })
  }

  async appendOnce(topic: string, data: unknown, once: { key: string; fingerprint: string; ttlMs: number }): Promise<OnceResult> {
    const keys = [...this.#topicKeys(topic), `${this.#o.prefix}o:${once.key}`]
    const args = [...this.#prelude(), this.#channel(topic), topic, toJson(data), once.fingerprint, Math.max(1, Math.floor(once.ttlMs))]
    const r = (await this.#script(APPEND_ONCE, keys, args)) as [number, string]
    const first = JSON.parse(r[1]) as Omit<OnceResult, 'repeated'>
    return { ...first, repeated: Number(r[0]) === 1 }
  }

  async updatePresence(session: string, user: string, topics: string[], mode: PresenceMode): Promise<void> {
    await this.#script(PRESENCE_UPDATE, [], [...this.#prelude(), this.#o.prefix, session, user, mode, ...topics])
  }

  async listPresence(topic: string): Promise<PresenceUser[]> {
    const r = (await this.#script(PRESENCE_LIST, [], [...this.#prelude(), this.#o.prefix, topic])) as string[]
    const users: PresenceUser[] = []
    for (let i = 0; i + 1 < r.length; i += 2) users.push({ user: String(r[i]), sessions: Number(r[i + 1]) })
    return users.sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0))
  }

  /** Ends the presence of expired sessions (with their leave events): one walk of every present topic. */
  async sweepPresence(): Promise<void> {
    let cursor = '0'
    do {
      cursor = String(await this.#script(PRESENCE_SWEEP, [], [...this.#prelude(), this.#o.prefix, cursor, 100]))
    } while (cursor !== '0' && !this.#closed)
  }

  async touchNode(node: string, ttlMs: number): Promise<void> {
    await this.#script(NODE_TOUCH, [`${this.#o.prefix}nodes`], [node, Math.max(1, Math.floor(ttlMs))])
  }

  async nodes(): Promise<string[]> {
    const r = (await this.#script(NODES, [`${this.#o.prefix}nodes`], [])) as string[]
    return r.map(String).sort()
  }

  subscribe(topic: string, listener: LiveListener, resync?: Resync): () => void {
    return this.#live.subscribe(topic, listener, resync)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#sweep)
    this.#availability.clear()
    // destroy, not close: close() waits for replies that never come while Redis is down.
    this.#sub.destroy()
    this.#main.destroy()
  }

  /** One decoding wrapper per fan-out listener, so a retried SUBSCRIBE and the UNSUBSCRIBE name the same one. */
  readonly #decoders = new WeakMap<(m: StoredMessage) => void, (raw: string) => void>()
  #decoder(fn: (m: StoredMessage) => void): (raw: string) => void {
    let d = this.#decoders.get(fn)
    if (!d) {
      d = (raw) => {
        let m: StoredMessage
        try {
          m = JSON.parse(raw) as StoredMessage
        } catch {
          return // not ours (someone else published on the channel); the log is the truth anyway
        }
        fn(m)
      }
      this.#decoders.set(fn, d)
    }
    return d
  }

  #update(): void {
    const up = !this.#closed && this.#main.isReady && this.#sub.isReady
    if (up === this.#up) return
    this.#up = up
    for (const l of [...this.#availability]) l(up)
  }

  async #script(script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    return this.#call(() => this.#run.run(script, keys, args.map(String)))
  }

  async #call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreUnavailableError('the store is closed')
    let timer: NodeJS.Timeout | undefined
    // node-redis drops its own command timeout once a command is written, so a hung Redis (SIGSTOP, a stuck
    // fork, a blackholed link with the socket still open) would hold every call forever. The reply may still
    // come later and apply: the client resends, and its seq makes the second try a duplicate.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no reply within ${this.#o.commandTimeoutMs} ms`)), this.#o.commandTimeoutMs)
    })
    try {
      return await Promise.race([fn(), timeout])
    } catch (e) {
      // Script errors (a bug, or a key of the wrong type) are not outages; report them as they are.
      if (e instanceof Error && /^(ERR|WRONGTYPE)/.test(e.message)) throw e
      throw new StoreUnavailableError(e)
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Epoch candidates: this store's random prefix and a counter, unique across nodes and calls. A fresh
   * randomBytes per script call was 2% of a production node's CPU, for a value used only when a topic gets a
   * new epoch.
   */
  readonly #epochBase = randomBytes(9).toString('base64url')
  #epochCount = 0

  #prelude(): (string | number)[] {
    const { maxMessages, maxAgeMs } = this.#o.retention
    return [`${this.#epochBase}${(this.#epochCount++).toString(36)}`, maxMessages, maxAgeMs, this.#o.topicIdleTtlMs]
  }

  #topicKeys(topic: string): string[] {
    return [this.#key('m:', topic), this.#key('l:', topic)]
  }

  #key(kind: 's:' | 'm:' | 'l:', name: string): string {
    return `${this.#o.prefix}${kind}${name}`
  }

  #channel(topic: string): string {
    return `${this.#o.prefix}live:${topic}`
  }
}

/** JSON text for the log; `undefined` (allowed by the protocol's `data`) is stored as null. */
function toJson(data: unknown): string {
  return JSON.stringify(data) ?? 'null'
}
