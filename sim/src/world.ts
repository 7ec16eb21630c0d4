/**
 * One simulated scenario: 3 nodes behind a sticky balancer, one store, a few pages, several topics, publishes
 * and sends in both directions, and a seeded schedule of faults. Everything runs on the virtual clock; the
 * seed decides the workload, the network's jitter and the faults (three independent random streams, so a
 * fault removed while shrinking does not change the workload). After the faults, everything heals and the world
 * goes quiet long enough for every client to catch up; then check.ts judges what happened.
 */
import { pickRendezvous } from '../../packages/devserver/src/balancer/rendezvous.js'
import type { CoreConfig } from '../../packages/devserver/src/node/core/types.js'
import { inboxOf, Ledger } from '../../packages/devserver/src/testing/ledger.js'
import { memoryStorage } from '../../packages/sdk/src/storage.js'
import type { Effect } from '../../packages/sdk/src/core.js'
import { SimClient, type Ticket } from './client.js'
import { Clock, Random } from './clock.js'
import { FAULTS, type Fault, type FaultSpec, type FaultWorld } from './faults.js'
import { Link } from './net.js'
import { SimNode } from './node.js'
import { SimStore } from './store.js'
import { QUIET_MS, WORK_MS } from './timeline.js'

const NODE_IDS = ['n1', 'n2', 'n3']
const TOPICS = ['room:a', 'room:b', 'room:c']
/** `SIM_TRACE=frames`: every frame into the trace (to read one scenario closely; it changes no decision). */
const TRACE_FRAMES = process.env.SIM_TRACE === 'frames'
/** No scenario needs this many events (they take a few hundred thousand): past it, something loops. */
const MAX_EVENTS = 3_000_000
/** A frozen node is marked down by the balancer's health checks (2 probes of 1 s) and its sockets closed. */
const MARK_DOWN_MS = 2_000

export interface Page {
  name: string
  storage: ReturnType<typeof memoryStorage>
  client: SimClient
  incarnations: number
  topics: string[]
  n: Map<string, number>
}

export interface Observations {
  /** @inbox messages a client got from a session it did not hold. */
  foreignInbox: string[]
  /** The highest attempt each client object sent a hello with, when. */
  lastHello: Map<string, number>
  maxOutbox: number
  faults: Map<string, number>
  messages: number
}

export class World implements FaultWorld {
  readonly clock = new Clock()
  readonly store: SimStore
  readonly ledger = new Ledger()
  readonly trace: string[] = []
  readonly pages: Page[] = []
  readonly nodes = new Map<string, SimNode>()
  readonly seen: Observations = { foreignInbox: [], lastHello: new Map(), maxOutbox: 0, faults: new Map(), messages: 0 }
  private readonly net: Random
  private readonly work: Random
  private nextLink = 1
  private hangQueue: (() => void)[] = []
  storeRestarts = 0
  private readonly coreConfig: CoreConfig
  /** When set, `connect` to this node's links refuses frames above this size with 1009 (a lower limit than announced). */
  readonly smallFrames = new Map<string, number>()

  constructor(
    readonly seed: number,
    readonly faults: Fault[],
  ) {
    const root = new Random(seed)
    this.work = root.fork()
    this.net = root.fork()
    this.store = new SimStore(() => this.clock.now, { maxMessages: 300 })
    let ids = 0
    this.coreConfig = {
      node: '',
      secret: 'sim-secret',
      heartbeatMs: 2_000,
      timeoutMs: 5_000,
      sessionTtlMs: 20_000,
      maxFrameBytes: 1024 * 1024,
      maxSubscriptions: 1_000,
      rateLimit: { perSecond: 1_000, burst: 2_000 },
      authorize: false,
      ids: { session: () => `s${++ids}`, generation: () => ++ids },
    }
    for (const id of NODE_IDS) this.startNode(id)
  }

  /** Builds the pages, schedules workload, faults and the heal, and runs to the end. */
  async run(): Promise<void> {
    this.quiet.topic = this.work.pick(TOPICS)
    this.quiet.from = this.work.int(5_000, WORK_MS)
    const pageCount = this.work.int(3, 5)
    for (let i = 1; i <= pageCount; i++) this.openPage(`p${i}`, memoryStorage())
    for (const f of this.faults) {
      ;(FAULTS[f.kind] as FaultSpec).prepare?.(this, f)
      this.clock.at(f.at, () => this.inject(f))
    }
    this.clock.at(WORK_MS, () => this.heal())
    const ran = await this.clock.run(WORK_MS + QUIET_MS, MAX_EVENTS)
    if (ran >= MAX_EVENTS) this.runaway = `more than ${MAX_EVENTS} events by ${(this.clock.now / 1000).toFixed(3)} s: something loops`
  }
  /** Set when the scenario did not finish (an event loop that never ends is a bug too). */
  runaway: string | undefined

  // ------------------------------------------------------------------ the cluster

  startNode(id: string): void {
    const node: SimNode = new SimNode(id, this.nodeWorld(), { ...this.coreConfig, node: id })
    this.nodes.set(id, node)
  }

  private nodeWorld() {
    const world = this
    return {
      clock: this.clock,
      random: this.net,
      store: this.store,
      storeLatencyMs: 0.3,
      gate: (run: () => void) => (this.store.hung ? this.hangQueue.push(run) : run()),
      get storeRestarts() {
        return world.storeRestarts
      },
      trace: (line: string) => this.log(line),
      exited: (node: SimNode) => {
        if (this.nodes.get(node.id) !== node) return
        // The supervisor starts it again (restart: true), a moment later.
        this.clock.after(this.net.int(300, 1_500), () => {
          if (this.nodes.get(node.id) === node) this.startNode(node.id)
        })
      },
    }
  }

  /** The balancer: sticky by `?sid=` over routable nodes (rendezvous), else least connections. */
  connect(client: SimClient, url: string): void {
    const link = new Link(this.nextLink++, this.clock, this.net, 0.5 + this.net.next())
    client.link = link
    link.ends = {
      toClient: (text) => {
        if (TRACE_FRAMES && !text.startsWith('{"t":"ping')) this.log(`${client.page}.${client.incarnation} <- ${text.slice(0, 140)}`)
        client.frame(link, text)
      },
      clientClosed: (code, reason) => client.closed(link, code, reason),
      toNode: () => undefined,
      nodeClosed: () => undefined,
    }
    const refuse = (why: string) => this.clock.after(1, () => client.closed(link, 1006, why))
    if (client.offline) return void refuse('offline')
    const now = this.clock.now
    const routable = [...this.nodes.values()].filter((n) => n.alive && !n.draining && !(n.frozenSince !== undefined && now - n.frozenSince >= MARK_DOWN_MS))
    if (routable.length === 0) return void refuse('no healthy node (503)')
    const sid = new URL(url).searchParams.get('sid')
    const chosen = sid ? pickRendezvous(sid, routable.map((n) => n.id)) : [...routable].sort((a, b) => a.connections - b.connections)[0]!.id
    const node = this.nodes.get(chosen!)!
    const limit = this.smallFrames.get(node.id)
    if (limit !== undefined) link.frameLimit = limit
    // The upgrade reaches the node after a hop; a frozen one answers when it thaws (if the client still waits).
    this.clock.after(0.5, () => {
      if (!node.alive) return void link.cutClientOnly()
      const deliver = () => {
        if (!node.accept(link)) return link.cutClientOnly()
        this.clock.after(0.5, () => client.opened(link))
      }
      if (node.frozenSince === undefined) deliver()
      else this.whenThawed(node, deliver)
    })
  }

  private whenThawed(node: SimNode, run: () => void): void {
    const check = () => (node.frozenSince === undefined ? run() : this.clock.after(50, check))
    this.clock.after(50, check)
  }

  // ------------------------------------------------------------------ pages and workload

  openPage(name: string, storage: ReturnType<typeof memoryStorage>, topics?: string[]): Page {
    const page: Page = { name, storage, client: undefined as unknown as SimClient, incarnations: 0, topics: topics ?? this.someTopics(), n: new Map() }
    this.pages.push(page)
    for (const t of [...page.topics, '@inbox']) this.ledger.reads(name, t)
    this.newInstance(page)
    this.scheduleWork(page)
    return page
  }

  private someTopics(): string[] {
    const k = this.work.int(1, TOPICS.length)
    return TOPICS.filter((_, i) => i < k || this.work.chance(0.3))
  }

  /** The page loads: a client restored from its storage, which subscribes to the page's topics. */
  newInstance(page: Page): void {
    const client = new SimClient(page.name, page.incarnations++, page.storage, this.clientWorld(), this.net.fork())
    page.client = client
    client.input({ type: 'start' })
    for (const t of page.topics) client.input({ type: 'subscribe', topic: t })
  }

  /** One topic goes quiet at some moment: nothing is published to it after (a reader must still get all of it). */
  private readonly quiet = { topic: TOPICS[0]!, from: 0 }

  private scheduleWork(page: Page): void {
    const next = () => {
      if (this.clock.now >= WORK_MS) return
      const c = page.client
      const topics = page.topics.filter((t) => t !== this.quiet.topic || this.clock.now < this.quiet.from)
      const topic = this.work.pick(topics.length ? topics : page.topics)
      const big = this.work.chance(0.02)
      if (this.work.chance(0.25)) {
        const t = this.tag(page, 'send')
        this.ledger.sent(inboxOf(page.name), t)
        c.send(t, { ...t })
      } else {
        const t = this.tag(page, topic)
        this.ledger.sent(topic, t)
        c.publish(topic, t, big ? { ...t, pad: 'x'.repeat(3_000) } : { ...t })
      }
      this.clock.after(this.work.int(150, 900), next)
    }
    this.clock.after(this.work.int(50, 500), next)
  }

  private tag(page: Page, topic: string): Ticket {
    const stream = `${page.name}.${page.client.incarnation}:${topic}`
    const n = (page.n.get(stream) ?? 0) + 1
    page.n.set(stream, n)
    return { stream, n }
  }

  private clientWorld() {
    return {
      clock: this.clock,
      connect: (client: SimClient, url: string) => this.connect(client, url),
      event: (client: SimClient, e: Extract<Effect, { type: 'emit' }>) => this.onEvent(client, e),
      settled: (client: SimClient, ticket: Ticket, error: string | undefined) => {
        if (!client.gone) this.ledger.settled(ticket, error ? 'rejected' : 'resolved')
      },
      wrote: (client: SimClient, text: string) => {
        if (TRACE_FRAMES && !text.startsWith('{"t":"pong')) this.log(`${client.page}.${client.incarnation} -> ${text.slice(0, 140)}`)
        if (text.startsWith('{"t":"hello"')) {
          const hello = JSON.parse(text) as { instance?: string; attempt?: number; resume?: unknown }
          if (hello.instance) this.seen.lastHello.set(hello.instance, hello.attempt ?? 0)
        }
        this.seen.maxOutbox = Math.max(this.seen.maxOutbox, client.core.session.outbox.size)
      },
    }
  }

  private onEvent(client: SimClient, e: Extract<Effect, { type: 'emit' }>): void {
    if (client.gone) return
    const reader = client.page
    switch (e.event) {
      case 'message': {
        const m = e.payload
        const tag = asTag(m.data)
        if (!tag) return
        this.seen.messages++
        if (m.topic === '@inbox') {
          // The inbox this very entry was appended to (epochs are unique per log, so epoch and offset name it).
          const owner = this.store.inboxEntry(m.epoch, m.offset)
          const held = client.core.session.sessionId
          if (owner && owner.topic !== `@inbox:${held}`) this.seen.foreignInbox.push(`${reader} got ${tag.stream}#${tag.n} from ${owner.topic} while holding ${held}`)
        }
        return this.ledger.received({ reader, topic: m.topic, epoch: m.epoch, offset: m.offset, ...tag })
      }
      case 'gap':
        this.log(`${reader}: gap ${e.payload.topic} ${e.payload.reason} ${e.payload.from}..${e.payload.to}`)
        return this.ledger.gap({ reader, topic: e.payload.topic, reason: e.payload.reason, from: e.payload.from, to: e.payload.to, epoch: e.payload.epoch })
      case 'reset': {
        const tags = e.payload.unconfirmed.flatMap((u) => asTag(u.data) ?? [])
        this.log(`${reader}: reset (${e.payload.reason}), ${tags.length} unconfirmed`)
        // Listed as unconfirmed: the app was told its fate is unknown, as with a rejected promise.
        for (const t of tags) this.ledger.settled(t, 'rejected')
        return this.ledger.reset({ reader, unconfirmed: tags })
      }
      case 'state':
        return this.log(`${reader}.${client.incarnation}: ${e.payload.from} → ${e.payload.to}`)
      case 'error': {
        this.log(`${reader}.${client.incarnation}: error ${e.payload.code}`)
        // A restored send refused for good comes as an event (no promise awaits it): its fate is told.
        const refused = e.payload.refused && asTag(e.payload.refused.data)
        if (refused) this.ledger.settled(refused, 'rejected')
        return
      }
    }
  }

  // ------------------------------------------------------------------ faults

  private inject(f: Fault): void {
    this.seen.faults.set(f.kind, (this.seen.faults.get(f.kind) ?? 0) + 1)
    const what = f.ms === undefined ? '' : f.kind === 'trim' ? ` keeping ${f.ms}` : f.kind === 'rollback' || f.kind === 'failover' ? ` to a snapshot ${f.ms} ms old` : ` for ${f.ms} ms`
    this.log(`FAULT ${f.kind}${f.target ? ` ${f.target}` : ''}${what}`)
    FAULTS[f.kind].inject(this, f)
  }

  /** Everything ends at WORK_MS: nodes back and thawed, the store up and answering, pages online, links fast. */
  private heal(): void {
    this.log('HEAL')
    this.unhang()
    if (!this.store.up) this.storeUp()
    for (const id of NODE_IDS) {
      const n = this.nodes.get(id)
      if (!n || !n.alive) this.startNode(id)
      else if (n.frozenSince !== undefined) n.thaw()
    }
    this.smallFrames.clear()
    for (const p of this.pages) {
      if (p.client.offline) {
        p.client.offline = false
        p.client.input({ type: 'reconnect', why: 'online' })
      }
    }
  }

  storeDown(): void {
    this.store.up = false
    this.storeRestarts++
  }

  storeUp(): void {
    this.store.up = true
    for (const n of this.nodes.values()) n.storeBack()
  }

  hang(): void {
    this.store.hung = true
  }

  unhang(): void {
    this.store.hung = false
    const queued = this.hangQueue.splice(0)
    for (const run of queued) run()
  }

  log(line: string): void {
    this.trace.push(`${(this.clock.now / 1000).toFixed(3).padStart(7)} ${line}`)
  }
}

function asTag(data: unknown): Ticket | undefined {
  const t = data as Partial<Ticket> | null
  return t && typeof t.stream === 'string' && typeof t.n === 'number' ? { stream: t.stream, n: t.n } : undefined
}
