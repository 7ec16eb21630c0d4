/** Every option default, written once, with its reason. The README's option table mirrors this file. */
import type { Backoff } from './backoff.js'
import type { OutboxLimits } from './outbox.js'
import type { ClientOptions, SchemaLike } from './types.js'

export const DEFAULTS = {
  backoff: {
    /** A dropped connection usually succeeds on the first retry; a 100 ms window keeps that retry quick. */
    minMs: 100,
    /** Caps the wait after a long outage: the app is back within 10 s of the cluster. */
    maxMs: 10_000,
    /** Doubling reaches the cap in 7 attempts (≈ 13 s of cumulative waiting on average). */
    factor: 2,
    /** A node that accepts and then dies within 5 s is not "up": keep backing off instead of looping at 100 ms. */
    resetAfterMs: 5_000,
    /**
     * After a 1012 (the node drains for a deploy) the client skips backoff but waits a random 0–150 ms: every
     * client of a drained node gets its 1012 within milliseconds, and 150 ms of spread lets the other nodes take
     * the herd in turn (bench drain row on 2 cores: p99 1.3–1.5 s at 0 ms, 0.8–0.96 s at 150 ms), still far
     * below any backoff step or a user's notice.
     */
    restartSpreadMs: 150,
  },
  outbox: {
    /** Minutes of chat-rate traffic while offline, yet a bounded resend burst and memory. */
    maxMessages: 1_000,
    /** The server's default frame limit is 1 MiB, so any message it accepts fits; persisted, it stays well
     * inside localStorage's ~5 MB quota. */
    maxBytes: 1 << 20,
    /** Never drop what the app handed us without telling the caller at the call site. */
    overflow: 'reject',
  },
  /** Covers a TLS handshake on a slow mobile link, yet gives up on a frozen node long before a user would. */
  connectTimeoutMs: 10_000,
} as const

/** ClientOptions with every default filled in: what the core reads. */
export interface ResolvedOptions<T> {
  urls: string[]
  backoff: Backoff & { resetAfterMs: number; restartSpreadMs: number }
  outbox: OutboxLimits
  connectTimeoutMs: number
  schema: SchemaLike<T> | undefined
  now: () => number
  random: () => number
  token: ClientOptions<T>['token']
}

export function resolveOptions<T>(o: ClientOptions<T>): ResolvedOptions<T> {
  const given = o?.url
  const urls: unknown[] = typeof given === 'string' ? [given] : Array.isArray(given) ? [...given] : []
  if (urls.length === 0) throw new TypeError('createClient: `url` is required (a ws:// or wss:// URL, or several)')
  for (const u of urls) {
    let scheme = ''
    try {
      scheme = new URL(u as string).protocol
    } catch {
      // not a URL at all: reported below
    }
    // http(s) too: WebSocket constructors (ws, current browsers) take them as ws(s).
    if (!/^(wss?|https?):$/.test(scheme)) throw new TypeError(`createClient: url ${JSON.stringify(u)} is not a ws://, wss://, http:// or https:// URL`)
  }
  const r: ResolvedOptions<T> = {
    urls: urls as string[],
    backoff: { ...DEFAULTS.backoff, ...o.backoff },
    outbox: { ...DEFAULTS.outbox, ...o.outbox },
    connectTimeoutMs: o.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    schema: o.schema,
    now: o.now ?? Date.now,
    random: o.random ?? Math.random,
    token: o.token,
  }
  for (const [name, v] of Object.entries({ ...r.backoff, ...r.outbox, connectTimeoutMs: r.connectTimeoutMs })) {
    if (typeof v === 'number' && !(v >= 0)) throw new TypeError(`createClient: ${name} must be a number >= 0, got ${v}`)
  }
  return r
}
