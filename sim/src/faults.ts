/**
 * Every fault the simulation injects, each chosen by the seed at any moment of the workload. Add a kind here
 * whenever a new one is found anywhere: it then runs in every sweep.
 */
import { SimClient } from './client.js'
import { Random, type Clock } from './clock.js'
import type { SimNode } from './node.js'
import type { SimStore } from './store.js'
import { WORK_MS } from './timeline.js'

/** What faults act on (the World). */
export interface FaultWorld {
  clock: Clock
  store: SimStore
  nodes: Map<string, SimNode>
  pages: { name: string; storage: ReturnType<typeof SimClient.copyStorage>; client: SimClient; topics: string[] }[]
  smallFrames: Map<string, number>
  openPage(name: string, storage: ReturnType<typeof SimClient.copyStorage>, topics?: string[]): unknown
  newInstance(page: FaultWorld['pages'][number]): void
  storeDown(): void
  storeUp(): void
  hang(): void
  unhang(): void
  log(line: string): void
}
type World = FaultWorld

export interface Fault {
  kind: FaultKind
  /** Virtual ms. */
  at: number
  /** A node id, a page name or a topic, by kind. */
  target?: string
  /** How long it lasts (or, for rollbacks, how old the restored snapshot is). */
  ms?: number
}

export interface FaultSpec {
  /** Relative frequency in a generated schedule. */
  weight: number
  /** Its target and duration, drawn from the fault stream. */
  make(r: Random): Pick<Fault, 'target' | 'ms'>
  /** Work done before the run starts (a rollback's snapshot must be taken before the fault). */
  prepare?(world: World, f: Fault): void
  inject(world: World, f: Fault): void
}

const node = (r: Random) => r.pick(['n1', 'n2', 'n3'])
const page = (r: Random) => r.pick(['p1', 'p2', 'p3'])
const snapshots = new WeakMap<Fault, ReturnType<SimStore['snapshot']>>()

function pageOf(world: World, name: string | undefined) {
  return world.pages.find((p) => p.name === name)
}

function offline(world: World, f: Fault): void {
  const p = pageOf(world, f.target)
  if (!p) return
  p.client.offline = true
  p.client.link?.cut()
  world.clock.after(f.ms!, () => {
    if (!p.client.offline) return
    p.client.offline = false
    world.log(`${p.name} online`)
    p.client.input({ type: 'reconnect', why: 'online' })
  })
}

function rollback(world: World, f: Fault): void {
  const snap = snapshots.get(f)
  if (!snap) return
  world.storeDown()
  world.clock.after(200, () => {
    world.store.restart(snap)
    world.storeUp()
  })
}

export const FAULTS = {
  /** SIGKILL of a node: its state is lost; the supervisor starts it again. */
  crash: { weight: 4, make: (r) => ({ target: node(r) }), inject: (w, f) => w.nodes.get(f.target!)?.crash('SIGKILL') },
  /** SIGTERM: the node drains (1012) and exits; the supervisor starts it again. */
  drain: { weight: 3, make: (r) => ({ target: node(r) }), inject: (w, f) => w.nodes.get(f.target!)?.drain() },
  /** SIGSTOP, then SIGCONT: half-open sockets; the balancer marks it down after 2 s and closes its sockets. */
  freeze: {
    weight: 3,
    make: (r) => ({ target: node(r), ms: r.int(500, 9_000) }),
    inject: (w, f) => {
      const n = w.nodes.get(f.target!)
      if (!n || !n.alive) return
      n.freeze()
      w.clock.after(2_000, () => n.frozenSince !== undefined && n.cutAll())
      w.clock.after(f.ms!, () => n.thaw())
    },
  },
  /** The node stops right after accepting an upgrade, before it reads that connection's hello. */
  'freeze-handshake': {
    weight: 2,
    make: (r) => ({ target: node(r), ms: r.int(6_000, 12_000) }),
    inject: (w, f) => {
      const n = w.nodes.get(f.target!)
      if (n?.alive) n.freezeAfterAccept = f.ms
      // A connection must arrive for it to matter: one page reconnects, the balancer may send it there.
      w.pages[0]?.client.input({ type: 'reconnect', why: 'app' })
    },
  },
  /** A page's connection is reset: both ends learn it. */
  cut: { weight: 3, make: (r) => ({ target: page(r) }), inject: (w, f) => pageOf(w, f.target)?.client.link?.cut() },
  /** A page's connection goes half-open: bytes stop, nobody is told. */
  'half-open': { weight: 3, make: (r) => ({ target: page(r) }), inject: (w, f) => pageOf(w, f.target)?.client.link?.halfOpen() },
  /** A page's link gets slow (a mobile network): 400–1,000 ms more each way, with jitter. */
  slow: {
    weight: 2,
    make: (r) => ({ target: page(r), ms: r.int(1_000, 8_000) }),
    inject: (w, f) => {
      const link = pageOf(w, f.target)?.client.link
      if (!link) return
      link.slow = 400
      w.clock.after(f.ms!, () => (link.slow = 0))
    },
  },
  /** Every page reconnects at once (a reconnect storm). */
  storm: { weight: 1, make: () => ({}), inject: (w) => w.pages.forEach((p) => p.client.input({ type: 'reconnect', why: 'app' })) },
  /** A page goes offline for a while, then the browser says `online`. */
  offline: { weight: 3, make: (r) => ({ target: page(r), ms: r.int(300, 12_000) }), inject: offline },
  /** Offline for longer than the session TTL (20 s here): the session expires. */
  expiry: { weight: 1, make: (r) => ({ target: page(r), ms: r.int(21_000, 26_000) }), inject: offline },
  /** The page reloads: a new client restored from its storage. */
  reload: {
    weight: 3,
    make: (r) => ({ target: page(r) }),
    inject: (w, f) => {
      const p = pageOf(w, f.target)
      if (!p) return
      p.client.leave()
      w.newInstance(p)
    },
  },
  /** "Duplicate tab": a second page starts from a copy of this page's storage, while the first goes on. */
  duplicate: {
    weight: 3,
    make: (r) => ({ target: page(r) }),
    inject: (w, f) => {
      const p = pageOf(w, f.target)
      if (!p) return
      const copies = w.pages.filter((q) => q.name.startsWith(`${p.name}~`)).length
      w.openPage(`${p.name}~${copies + 1}`, SimClient.copyStorage(p.storage), p.topics)
    },
  },
  /** The store restarts (from its own data, in a new process). */
  'store-restart': {
    weight: 2,
    make: (r) => ({ ms: r.int(100, 2_500) }),
    inject: (w, f) => {
      w.storeDown()
      w.clock.after(f.ms!, () => {
        w.store.restart()
        w.storeUp()
      })
    },
  },
  /** The store is restored from a snapshot 1–8 s old. */
  rollback: {
    weight: 2,
    make: (r) => ({ ms: r.int(1_000, 8_000) }),
    prepare: (w, f) => void w.clock.at(Math.max(0, f.at - f.ms!), () => snapshots.set(f, w.store.snapshot())),
    inject: rollback,
  },
  /** A lagging async replica is promoted: the last 50–600 ms of writes are gone. */
  failover: {
    weight: 2,
    make: (r) => ({ ms: r.int(50, 600) }),
    prepare: (w, f) => void w.clock.at(Math.max(0, f.at - f.ms!), () => snapshots.set(f, w.store.snapshot())),
    inject: rollback,
  },
  /** The store hangs (SIGSTOP): nothing answers for 1–4 s, then everything at once. */
  hang: {
    weight: 2,
    make: (r) => ({ ms: r.int(800, 4_000) }),
    inject: (w, f) => {
      w.hang()
      w.clock.after(f.ms!, () => w.unhang())
    },
  },
  /** Retention drops the oldest messages of a topic. */
  trim: { weight: 2, make: (r) => ({ target: r.pick(['room:a', 'room:b', 'room:c']), ms: r.int(0, 20) }), inject: (w, f) => w.store.trim(f.target!, f.ms!) },
  /** A node whose real frame limit is below what it announces: big frames get 1009. */
  'small-frames': {
    weight: 1,
    make: (r) => ({ target: node(r), ms: r.int(2_000, 10_000) }),
    inject: (w, f) => {
      w.smallFrames.set(f.target!, 2_000)
      w.clock.after(f.ms!, () => w.smallFrames.delete(f.target!))
    },
  },
} satisfies Record<string, FaultSpec>

export type FaultKind = keyof typeof FAULTS
export const FAULT_KINDS = Object.keys(FAULTS) as FaultKind[]

/** The seed's fault schedule: 2–8 faults at random moments of the workload. */
export function faultsOf(seed: number): Fault[] {
  const r = new Random((seed * 2654435761) >>> 0).fork()
  const total = FAULT_KINDS.reduce((s, k) => s + FAULTS[k].weight, 0)
  const out: Fault[] = []
  for (let i = r.int(2, 8); i > 0; i--) {
    let x = r.next() * total
    const kind = FAULT_KINDS.find((k) => (x -= FAULTS[k].weight) < 0) ?? 'crash'
    out.push({ kind, at: r.int(1_500, WORK_MS - 3_000), ...FAULTS[kind].make(r) })
  }
  return out.sort((a, b) => a.at - b.at)
}
