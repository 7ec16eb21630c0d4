/**
 * Network faults of a dev cluster: what an impairment is, its limits, and the one place input becomes one
 * (`parseImpairment`: the Cluster API, the admin API and the CLI all check through it, with the same messages).
 * Pure: values in, values or a ClusterError (BAD_OPTION) out.
 *
 * Where each link is shaped (node/link.ts, store/ipc-client.ts, node/faults.ts say how):
 *   client ↔ node   in the node process, per client connection, at the WebSocket frame level: frames the node
 *                   sends and frames it reads, its pings included, and the upgrade handshake before them.
 *   node ↔ store    in the node process, on its IPC link to the cluster's store: calls, answers, live messages.
 */
import { ClusterError, ClusterErrorCode } from '../errors.js'

/**
 * What `cluster.impair(node, …)`, `cluster.impairSession(sid, …)` / `impairPage(page, …)` (without `store`),
 * `startCluster({ impair })`, POST /_lifeline/api/nodes/<id>/impair (and sessions/<sid>/impair) and
 * `lifeline dev --latency … --jitter … --bandwidth …` take. Every field is optional; each default is "not
 * impaired" in that respect. An impairment replaces the one before it (it is not merged): pass every field you
 * want, `heal` to end it.
 */
export interface ImpairOptions {
  /**
   * Added to every frame, in each direction (one way: a round trip takes 2 × latencyMs longer), as to the upgrade
   * handshake. Default 0. At most MAX_DELAY_MS.
   */
  latencyMs?: number
  /**
   * Each frame's delay is latencyMs ± a uniform random share of this, never below 0, and order is kept: a frame
   * never overtakes the one sent before it (TCP does not reorder either). Default 0. At most MAX_DELAY_MS.
   */
  jitterMs?: number
  /**
   * Each direction carries at most this many bytes a second: a frame leaves only once the frames before it
   * crossed. Counts frame payloads (the JSON), not WebSocket or TCP headers. Default: unlimited. At least 1.
   * Frames the node sent and the link still holds count as that connection's unsent output, so a client that
   * cannot keep up over the narrow link is cut as a slow consumer (1013, past the node's maxBufferedBytes), as it
   * would be over a real one; the same goes for a long blackhole on a busy connection.
   */
  bandwidthBytesPerSec?: number
  /**
   * No bytes either way while the sockets stay open (half-open: nothing is closed, nothing says so). The node's
   * frames (pings too) are held, it reads nothing (the kernel's buffers fill, as behind a dead link), new
   * upgrades wait unanswered, and for a whole node its /healthz goes unanswered too (the balancer's probes time
   * out and take it out of routing). On heal what was held flows, in order, as TCP would retransmit it after a
   * short outage. Default false.
   */
  blackhole?: boolean
  /**
   * The node's link to the store, on its own (not for a page: a page has no store link). Only the cluster's own
   * store (memory, or a Store object), which nodes reach over IPC; a redis:// store is reached by each node
   * directly and is refused here (BAD_OPTION): pause Redis itself instead (SIGSTOP), as test/redis-hang does.
   */
  store?: StoreImpairment
}

export interface StoreImpairment {
  /**
   * Calls, answers and live messages between the node and the store are held. The node's store calls time out
   * (the IPC store's timeoutMs, 5 s), so clients get STORE_UNAVAILABLE and nothing is acknowledged; on heal what
   * was held is delivered (a call that timed out may then apply: the client's resend with the same seq is
   * acknowledged as a duplicate, never applied twice). Default false.
   */
  blackhole?: boolean
  /** Added to every message, each way (a store call's round trip takes 2 × this longer). Default 0. At most MAX_DELAY_MS. */
  latencyMs?: number
}

/** Per node and per session: what the supervisor hands a node process, and what `node.faults.set` takes. */
export interface FaultState {
  /** The node's own impairment: every client connection, its health answers, its store link. */
  node?: ImpairOptions
  /** Session id → the impairment of that session's connections only (a page's own link), wherever it connects. */
  sessions?: Record<string, ImpairOptions>
}

/**
 * The longest latency or jitter accepted: a minute. Far past any heartbeat timeout already (a link that slow is
 * dead to every client); a longer one is a blackhole, which says so.
 */
export const MAX_DELAY_MS = 60_000

const FIELDS = ['latencyMs', 'jitterMs', 'bandwidthBytesPerSec', 'blackhole', 'store'] as const
const STORE_FIELDS = ['blackhole', 'latencyMs'] as const

/**
 * Checks `input` (JSON from a request body, or a caller's object) and returns it as ImpairOptions, with only the
 * fields it gave. `scope` 'session': a page's own link, which has no store part. Throws ClusterError BAD_OPTION
 * naming the field, the value and what is allowed.
 */
export function parseImpairment(input: unknown, scope: 'node' | 'session' = 'node'): ImpairOptions {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw bad(`impairment must be an object such as { "latencyMs": 200, "jitterMs": 50 }, got ${show(input)}`)
  }
  const o = input as Record<string, unknown>
  unknownKeys(o, FIELDS, '')
  const out: ImpairOptions = {}
  const latency = delay(o.latencyMs, 'latencyMs')
  if (latency !== undefined) out.latencyMs = latency
  const jitter = delay(o.jitterMs, 'jitterMs')
  if (jitter !== undefined) out.jitterMs = jitter
  if (o.bandwidthBytesPerSec !== undefined) {
    const b = o.bandwidthBytesPerSec
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 1) throw bad(`bandwidthBytesPerSec must be an integer >= 1 (bytes a second, each way), got ${show(b)}`)
    out.bandwidthBytesPerSec = b
  }
  const blackhole = flag(o.blackhole, 'blackhole')
  if (blackhole !== undefined) out.blackhole = blackhole
  if (o.store !== undefined) {
    if (scope === 'session') throw bad('store: a page (a session) has no link to the store of its own; impair its node with cluster.impair(node, { store: … })')
    const s = o.store
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw bad(`store must be an object such as { "blackhole": true }, got ${show(s)}`)
    const so = s as Record<string, unknown>
    unknownKeys(so, STORE_FIELDS, 'store.')
    const store: StoreImpairment = {}
    const sb = flag(so.blackhole, 'store.blackhole')
    if (sb !== undefined) store.blackhole = sb
    const sl = delay(so.latencyMs, 'store.latencyMs')
    if (sl !== undefined) store.latencyMs = sl
    out.store = store
  }
  return out
}

/** The client side of an impairment (everything but `store`), or undefined when it shapes nothing there. */
export function clientPart(o: ImpairOptions | undefined): ImpairOptions | undefined {
  if (!o) return undefined
  const { store: _store, ...client } = o
  return Object.keys(client).length > 0 ? client : undefined
}

/**
 * Two links one after the other (a node's and a page's): delays and jitters add up, the narrower bandwidth
 * wins, either blackhole stops everything. The store part is the node's (`a`) alone.
 */
export function inSeries(a: ImpairOptions | undefined, b: ImpairOptions | undefined): ImpairOptions | undefined {
  if (!a || !b) return a ?? b
  const out: ImpairOptions = {}
  const sum = (x: number | undefined, y: number | undefined): number | undefined => (x === undefined && y === undefined ? undefined : (x ?? 0) + (y ?? 0))
  const latency = sum(a.latencyMs, b.latencyMs)
  if (latency !== undefined) out.latencyMs = latency
  const jitter = sum(a.jitterMs, b.jitterMs)
  if (jitter !== undefined) out.jitterMs = jitter
  const bandwidth = Math.min(a.bandwidthBytesPerSec ?? Infinity, b.bandwidthBytesPerSec ?? Infinity)
  if (bandwidth !== Infinity) out.bandwidthBytesPerSec = bandwidth
  if (a.blackhole || b.blackhole) out.blackhole = true
  if (a.store) out.store = a.store
  return out
}

/** One line, for the event log and the CLI banner: "latency 300 ms ± 50 ms, 64000 B/s, blackhole, store: blackhole". */
export function describeImpairment(o: ImpairOptions): string {
  const parts: string[] = []
  if (o.blackhole) parts.push('blackhole')
  if (o.latencyMs || o.jitterMs) parts.push(`latency ${o.latencyMs ?? 0} ms${o.jitterMs ? ` ± ${o.jitterMs} ms` : ''}`)
  if (o.bandwidthBytesPerSec !== undefined) parts.push(`${o.bandwidthBytesPerSec} B/s`)
  if (o.store) {
    const s = [o.store.blackhole ? 'blackhole' : '', o.store.latencyMs ? `latency ${o.store.latencyMs} ms` : ''].filter(Boolean)
    parts.push(`store: ${s.join(', ') || 'none'}`)
  }
  return parts.join(', ') || 'nothing (every field 0 or off)'
}

function delay(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_DELAY_MS) {
    throw bad(`${name} must be a number of milliseconds from 0 to ${MAX_DELAY_MS}, got ${show(value)}${value !== undefined && Number(value) > MAX_DELAY_MS ? '; for a link that passes nothing use blackhole: true' : ''}`)
  }
  return value
}

function flag(value: unknown, name: string): boolean | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'boolean') throw bad(`${name} must be true or false, got ${show(value)}`)
  return value
}

function unknownKeys(o: Record<string, unknown>, known: readonly string[], prefix: string): void {
  const extra = Object.keys(o).find((k) => !known.includes(k))
  if (extra !== undefined) throw bad(`unknown option ${JSON.stringify(prefix + extra)}; the options are ${known.map((k) => prefix + k).join(', ')}`)
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 80 ? `${text.slice(0, 80)}…` : text
}

function bad(message: string): ClusterError {
  return new ClusterError(ClusterErrorCode.BAD_OPTION, message)
}
