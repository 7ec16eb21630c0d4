/**
 * A small Lifeline server on an msw `ws.link`: sessions with cumulative acks and seq dedup, per-topic logs with
 * offsets and epochs, resume with replay, the @inbox topic, and hooks that make it misbehave on purpose. It
 * speaks the protocol as the devserver does, so SDK tests need no real socket and no real server.
 */
import { decodeClientFrame, INBOX_TOPIC, type ClientFrame, type From, type Hello, type ServerFrame } from '@lifeline/protocol'
import { ws } from 'msw'
import { vi } from 'vitest'

/** The server side of one connection: msw's client connection, or a `ws` socket wrapped to look like one. */
export interface WireClient {
  url: URL | string
  send(text: string): void
  close(code?: number, reason?: string): void
  addEventListener(type: 'message' | 'close', fn: (e: { data?: unknown }) => void): void
}

export interface Session {
  id: string
  token: string
  acked: number
  /** Every op applied, in order: the test asserts each client call appears exactly once. */
  applied: { seq: number; topic?: string; data: unknown }[]
}

export interface Conn {
  client: WireClient
  url: URL
  session?: Session
  hello?: Hello
  subs: Set<string>
  /** Every frame this connection received, decoded. */
  received: ClientFrame[]
  /** A frozen connection neither reads nor writes nor closes (SIGSTOP). */
  frozen: boolean
  closed: boolean
  /** Set once an op was dropped: later ops on this connection are lost too. */
  blackhole?: boolean
  ping?: ReturnType<typeof setInterval>
}

export interface Hooks {
  /** Decide per pub/send: apply and ack; 'no-ack' apply but never say so; 'drop': lost in transit, and so is
   * every later pub/send on that connection (TCP is ordered: what follows a lost frame never arrives either). */
  op?: (conn: Conn, frame: Extract<ClientFrame, { t: 'pub' | 'send' }>) => 'apply' | 'drop' | 'no-ack'
  /** Replay from this offset instead of position + 1 (a replay that overlaps what the client had). */
  replayFrom?: (topic: string, position: number) => number
  /** Called after every live message fan-out. */
  published?: (topic: string, offset: number) => void
}

export class FakeServer {
  readonly url: string
  readonly link: ReturnType<typeof ws.link>
  readonly handler: ReturnType<ReturnType<typeof ws.link>['addEventListener']>
  readonly sessions = new Map<string, Session>()
  readonly logs = new Map<string, { epoch: string; base: number; data: unknown[] }>()
  readonly conns: Conn[] = []
  hooks: Hooks = {}
  /** Most connections open at the same moment (the SDK promises never two at once per client). */
  maxOpen = 0
  heartbeatMs = 0
  timeoutMs = 10_000

  /** `url`: where clients connect when served by a real `ws` server instead of msw (see accept). */
  constructor(name: string, url?: string) {
    const mocked = `ws://lifeline.test/${name}`
    this.url = url ?? mocked
    this.link = ws.link(mocked)
    this.handler = this.link.addEventListener('connection', ({ client }) => this.accept(client as unknown as WireClient))
  }

  /** The newest connection. */
  get conn(): Conn {
    return this.conns[this.conns.length - 1]!
  }

  /** Resolves once `n` connections have completed their hello. */
  welcomed(n: number, timeoutMs = 5000): Promise<Conn> {
    return vi.waitFor(
      () => {
        const welcomed = this.conns.filter((c) => c.session)
        if (welcomed.length < n) throw new Error(`expected ${n} welcomed connections, have ${welcomed.length}`)
        return welcomed[n - 1]!
      },
      { timeout: timeoutMs, interval: 5 },
    )
  }

  /** Append to a topic's log and deliver it live; returns the offset. */
  publish(topic: string, data: unknown): number {
    const log = this.log(topic)
    log.data.push(data)
    const offset = log.base + log.data.length
    for (const c of this.conns) {
      if (c.session && !c.closed && [...c.subs].some((s) => this.store(s, c.session!) === topic)) {
        this.send(c, { t: 'msg', topic: this.appTopic(topic), offset, epoch: log.epoch, data })
      }
    }
    this.hooks.published?.(topic, offset)
    return offset
  }

  send(c: Conn, frame: ServerFrame): void {
    this.raw(c, JSON.stringify(frame))
  }

  raw(c: Conn, text: string): void {
    if (!c.frozen && !c.closed) c.client.send(text)
  }

  kill(c: Conn, code = 1006, reason = ''): void {
    if (c.closed) return
    c.closed = true
    clearInterval(c.ping)
    c.client.close(code, reason)
  }

  /** Forget a session, as a server does when its retention expires. */
  expire(id: string): void {
    this.sessions.delete(id)
  }

  stop(): void {
    for (const c of this.conns) clearInterval(c.ping), (c.closed = true)
  }

  accept(client: WireClient): void {
    const c: Conn = { client, url: new URL(String(client.url)), subs: new Set(), received: [], frozen: false, closed: false }
    this.conns.push(c)
    this.maxOpen = Math.max(this.maxOpen, this.conns.filter((x) => !x.closed).length)
    client.addEventListener('message', (e) => this.onText(c, e.data))
    client.addEventListener('close', () => ((c.closed = true), clearInterval(c.ping)))
  }

  private onText(c: Conn, text: unknown): void {
    if (c.frozen || c.closed) return
    const d = decodeClientFrame(String(text))
    if (!d.ok) return this.kill(c, 4400, d.error.message)
    const f = d.frame
    c.received.push(f)
    if (f.t === 'hello') return this.hello(c, f)
    const s = c.session
    if (!s) return this.kill(c, 4400, 'hello expected')
    if (f.t === 'ping') return this.send(c, { t: 'pong' })
    if (f.t === 'sub') return this.subscribe(c, f.topic, f.from ?? null)
    if (f.t === 'unsub') return void c.subs.delete(f.topic)
    if (f.t !== 'pub' && f.t !== 'send') return
    if (c.blackhole) return
    if (f.seq <= s.acked) return this.send(c, { t: 'ack', seq: s.acked }) // a resend of something applied
    if (f.seq !== s.acked + 1) return this.kill(c, 4422, `seq ${f.seq}, expected ${s.acked + 1}`)
    const verdict = this.hooks.op?.(c, f) ?? 'apply'
    if (verdict === 'drop') return void (c.blackhole = true)
    s.acked = f.seq
    s.applied.push(f.t === 'pub' ? { seq: f.seq, topic: f.topic, data: f.data } : { seq: f.seq, data: f.data })
    if (f.t === 'pub') this.publish(this.store(f.topic, s), f.data)
    else this.publish(this.store(INBOX_TOPIC, s), { echo: f.data }) // the default send handler replies
    if (verdict === 'apply') this.send(c, { t: 'ack', seq: f.seq })
  }

  private hello(c: Conn, h: Hello): void {
    c.hello = h
    const known = h.resume ? [...this.sessions.values()].find((s) => s.token === h.resume!.token) : undefined
    const s = known ?? this.newSession()
    c.session = s
    const { heartbeatMs, timeoutMs } = this
    this.send(c, { t: 'welcome', session: { id: s.id, token: s.token }, resumed: !!known, node: 'fake', acked: s.acked, heartbeatMs: heartbeatMs || 60_000, timeoutMs })
    if (heartbeatMs) c.ping = setInterval(() => this.send(c, { t: 'ping' }), heartbeatMs)
    for (const [topic, pos] of Object.entries(h.subs)) this.subscribe(c, topic, pos)
  }

  private subscribe(c: Conn, topic: string, start: From | null): void {
    const log = this.log(this.store(topic, c.session!))
    const head = log.base + log.data.length
    // A start without a position ('earliest', an offset without an epoch) is placed in the current log, and
    // `subscribed.after` says where (the protocol's From).
    const placed = start !== null && (start === 'earliest' || start.epoch === undefined)
    const pos = start === 'earliest' ? { offset: log.base, epoch: log.epoch } : start && { offset: placed ? Math.min(start.offset, head) : start.offset, epoch: start.epoch ?? log.epoch }
    let from = head + 1
    let gap: { reason: 'retention' | 'epoch'; from: number; to: number } | undefined
    if (pos && pos.epoch !== log.epoch) (gap = { reason: 'epoch', from: 1, to: log.base }), (from = log.base + 1)
    else if (pos && pos.offset < log.base) (gap = { reason: 'retention', from: pos.offset + 1, to: log.base }), (from = log.base + 1)
    else if (pos) from = this.hooks.replayFrom?.(topic, pos.offset) ?? pos.offset + 1
    c.subs.add(topic)
    this.send(c, { t: 'subscribed', topic, offset: head, epoch: log.epoch, recovered: !gap, ...(gap ? { gap } : {}), ...(placed ? { after: Math.max(from, log.base + 1) - 1 } : {}) })
    for (let off = Math.max(from, log.base + 1); off <= head; off++) {
      this.send(c, { t: 'msg', topic, offset: off, epoch: log.epoch, data: log.data[off - log.base - 1] })
    }
  }

  private newSession(): Session {
    const id = `s${this.sessions.size + 1}-${Math.random().toString(36).slice(2, 8)}`
    const s: Session = { id, token: `tok-${id}`, acked: 0, applied: [] }
    this.sessions.set(id, s)
    return s
  }

  private log(topic: string) {
    let l = this.logs.get(topic)
    if (!l) this.logs.set(topic, (l = { epoch: 'e1', base: 0, data: [] }))
    return l
  }

  /** The store's name for a client topic: @inbox is per session. */
  private store(topic: string, s: Session): string {
    return topic === INBOX_TOPIC ? `${INBOX_TOPIC}:${s.id}` : topic
  }

  private appTopic(store: string): string {
    return store.startsWith(`${INBOX_TOPIC}:`) ? INBOX_TOPIC : store
  }
}
