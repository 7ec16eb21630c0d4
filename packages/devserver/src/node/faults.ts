/**
 * A node's network faults (faults/options.ts): what is impaired here, and applying it. Two scopes:
 *   node      every client connection of this node, its /healthz answers (held while blackholed, so the
 *             balancer's probes time out as they would on a dead link) and its store link (store.impair, the
 *             IPC store's);
 *   session   one session's connections only (a page's own link, impairPage): applied when one connects here,
 *             by the `?sid=` of its upgrade or once its hello claimed the session, until healed.
 * A connection of an impaired session on an impaired node gets both, one after the other (inSeries).
 *
 * The supervisor sets the whole state at once over IPC (acceptFaults below; it sends it to every node process,
 * including ones started later), and awaits the answer, so `await cluster.impair(…)` returns once the node
 * shapes. Nothing here runs while nothing is impaired: the node's hot paths test `active` (or a connection's
 * link) and go on.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { clientPart, inSeries, parseImpairment, type FaultState, type ImpairOptions, type StoreImpairment } from '../faults/options.js'
import { FAULTS_TAG, isFaultsMessage, type FaultsFromNode } from '../faults/messages.js'
import type { Store } from '../store/types.js'
import { tryUrl } from '../http/parse.js'

/** What NodeFaults shapes: the node's connections (ClientSocket.impair) and its store. */
export interface Impairable {
  readonly session: string | undefined
  /** Resolves when the connection is gone. */
  readonly closed: Promise<void>
  impair(impairment: ImpairOptions | undefined): void
}

/** A store whose link can be impaired (the IPC store, store/ipc-client.ts). */
export interface ImpairableStore {
  impair(impairment: StoreImpairment | undefined): void
}

export function isImpairableStore(store: Store): store is Store & ImpairableStore {
  return typeof (store as Partial<ImpairableStore>).impair === 'function'
}

interface FaultsHost {
  sockets(): Iterable<Impairable>
  readonly store: Store
  log(line: string): void
}

/** An upgrade or a health answer waiting for a blackhole to lift. */
type Waiter = () => boolean

export class NodeFaults {
  /** Anything impaired at all: the one test the node's hot paths make. */
  active = false
  private node: ImpairOptions | undefined
  private sessions = new Map<string, ImpairOptions>()
  /** The `?sid=` each connection asked for in its upgrade, until its hello names the session it holds. */
  private readonly requested = new WeakMap<Impairable, string>()
  /**
   * Connections this shaped and not yet healed, until they are gone. Besides the node's open ones: a connection
   * the node closed (it timed out a silent client, say) is no longer the node's, but its link still holds the
   * close frame, and a heal must deliver it.
   */
  private readonly shaped = new Set<Impairable>()
  /**
   * What each shaped connection (and the store link) was last given, as JSON: a change elsewhere (another
   * session impaired) leaves it alone, since reshaping a line schedules what it holds again from now.
   */
  private readonly given = new WeakMap<Impairable, string>()
  private storeGiven: string | undefined
  private readonly waiting = new Set<Waiter>()

  constructor(private readonly host: FaultsHost) {}

  /** What is impaired now (a copy). */
  get state(): FaultState {
    return { ...(this.node ? { node: this.node } : {}), sessions: Object.fromEntries(this.sessions) }
  }

  /**
   * Replace the whole state: `node` for the node, `sessions` per session (absent: none). Checked like every
   * other input (parseImpairment: BAD_OPTION). Applied at once to every open connection, the store link, and
   * the upgrades and health answers a blackhole held.
   */
  set(state: FaultState): void {
    const node = state.node === undefined ? undefined : parseImpairment(state.node, 'node')
    const sessions = new Map(Object.entries(state.sessions ?? {}).map(([id, o]) => [id, parseImpairment(o, 'session')]))
    const store = this.host.store
    if (node?.store && !isImpairableStore(store)) {
      this.host.log('faults: this node reaches its store directly (not over IPC), so its store link cannot be impaired; the store part is ignored')
    }
    this.node = node
    this.sessions = sessions
    this.active = node !== undefined || sessions.size > 0
    const storeKey = node?.store ? JSON.stringify(node.store) : undefined
    if (isImpairableStore(store) && storeKey !== this.storeGiven) store.impair(node?.store)
    this.storeGiven = storeKey
    for (const socket of new Set([...this.host.sockets(), ...this.shaped])) this.apply(socket, this.effective(socket.session ?? this.requested.get(socket)))
    for (const waiter of [...this.waiting]) if (waiter()) this.waiting.delete(waiter)
  }

  /** Impair the node (no `session`) or one session's connections; replaces what that scope had. */
  impair(options: ImpairOptions, session?: string): void {
    if (session === undefined) return this.set({ ...this.state, node: options })
    this.set({ ...this.state, sessions: { ...this.state.sessions, [session]: options } })
  }

  /** End the node's impairment (no `session`: the node's own, sessions stay) or one session's. */
  heal(session?: string): void {
    const { node, sessions = {} } = this.state
    if (session === undefined) return this.set({ sessions })
    delete sessions[session]
    this.set({ ...(node ? { node } : {}), sessions })
  }

  /** A connection's client-side impairment: its node's and its session's, in series. */
  effective(session: string | undefined): ImpairOptions | undefined {
    const own = session === undefined ? undefined : this.sessions.get(session)
    return clientPart(inSeries(this.node, own))
  }

  /** A new connection: shaped from its first frame if its node, or the session its upgrade named, is impaired. */
  attach(socket: Impairable, req: IncomingMessage): void {
    const sid = sidOf(req)
    if (sid !== undefined) this.requested.set(socket, sid)
    const impairment = this.effective(sid)
    if (impairment) this.apply(socket, impairment)
  }

  /** The connection's hello claimed `session` (its own, or a new one): that session's impairment applies now. */
  owned(socket: Impairable, session: string): void {
    this.requested.delete(socket)
    this.apply(socket, this.effective(session))
  }

  private apply(socket: Impairable, impairment: ImpairOptions | undefined): void {
    if (!impairment && !this.shaped.has(socket)) return
    const key = impairment && JSON.stringify(impairment)
    if (key !== undefined && this.given.get(socket) === key) return
    socket.impair(impairment)
    if (!impairment) {
      this.given.delete(socket)
      return void this.shaped.delete(socket)
    }
    this.given.set(socket, key as string)
    if (this.shaped.has(socket)) return
    this.shaped.add(socket)
    void socket.closed.then(() => this.shaped.delete(socket))
  }

  /**
   * An upgrade request: `proceed` runs now, after the handshake's round trip under latency, or once a
   * blackhole lifts (unanswered until then, as a SYN into a dead link). A client that gives up meanwhile is
   * forgotten with its socket.
   */
  admit(req: IncomingMessage, proceed: () => void): void {
    const sid = sidOf(req)
    const go = (): boolean => {
      const impairment = this.effective(sid)
      if (impairment?.blackhole) return false
      // The 101 is written as soon as `proceed` runs, past any shaping: so the handshake waits both ways here.
      const delay = impairment ? 2 * Math.max(0, (impairment.latencyMs ?? 0) + (Math.random() * 2 - 1) * (impairment.jitterMs ?? 0)) : 0
      if (delay > 0) setTimeout(proceed, delay).unref()
      else proceed()
      return true
    }
    if (go()) return
    this.waiting.add(go)
    req.socket.once('close', () => this.waiting.delete(go))
  }

  /** /healthz while the node is blackholed: held, answered (by `answer`) once the blackhole lifts. True when held. */
  holdHealth(res: ServerResponse, answer: () => void): boolean {
    if (!this.node?.blackhole) return false
    const waiter: Waiter = () => {
      if (this.node?.blackhole) return false
      if (!res.destroyed) answer()
      return true
    }
    this.waiting.add(waiter)
    res.once('close', () => this.waiting.delete(waiter))
    return true
  }
}

/**
 * The node process's end of the supervisor's fault messages (faults/messages.ts): each `set` replaces the
 * node's state and is answered `applied` (or `refused`, with the reason, when it could not be read).
 */
export function acceptFaults(faults: NodeFaults, channel: NodeJS.Process = process): () => void {
  const onMessage = (raw: unknown): void => {
    if (!isFaultsMessage(raw) || raw.kind !== 'set') return
    let reply: FaultsFromNode
    try {
      faults.set(raw.state)
      reply = { lifeline: FAULTS_TAG, kind: 'applied', serial: raw.serial }
    } catch (e) {
      reply = { lifeline: FAULTS_TAG, kind: 'refused', serial: raw.serial, error: (e as Error)?.message ?? String(e) }
    }
    if (channel.connected) channel.send?.(reply)
  }
  channel.on('message', onMessage)
  return () => void channel.off('message', onMessage)
}

function sidOf(req: IncomingMessage): string | undefined {
  const url = tryUrl(`http://x${(req.url ?? '').startsWith('/') ? req.url : '/'}`)
  return url?.searchParams.get('sid') || undefined
}
