/**
 * createServerApi: a typed client of the HTTP API (/_lifeline/v1/…) for a Node backend, on the global `fetch`
 * (Node 18+). It imports nothing else of the devserver, so `@lifeline/devserver/api` costs a backend no Redis
 * client, no `ws`. Every method resolves with the API's answer or rejects with a `ServerApiError` carrying the
 * API's stable `code` (src/errors.ts) and the HTTP `status`.
 *
 *   const api = createServerApi({ url: 'http://127.0.0.1:8080', apiKey: process.env.LIFELINE_API_KEY })
 *   await api.publish('user:42', { text: 'Your order shipped' }, { idempotencyKey: `order-shipped:${orderId}` })
 *
 * `publish` retries what is safe to retry, itself: with an idempotencyKey, a 503 (STORE_UNAVAILABLE, NO_NODE)
 * or a network failure is tried again (`retries`, default 2, after 100 ms and 400 ms), and the key makes the
 * message append once however many tries reached the store. Without a key nothing is retried.
 */

export interface ServerApiOptions {
  /** The node's or the balancer's http(s):// URL (a ws:// URL is taken as http://). */
  url: string
  apiKey: string
  /** Give up on one request after this long, ms. Default 10,000: the API's slowest call waits 2 s. */
  timeoutMs?: number
  /** Tries after the first, for a publish with an idempotencyKey. Default 2. */
  retries?: number
  /** `fetch` to use. Default the global one. */
  fetch?: typeof fetch
}

export interface Published {
  topic: string
  offset: number
  epoch: string
}

export interface HistoryAnswer<T = unknown> {
  topic: string
  epoch: string
  /** Oldest first; `from` is the publishing user, for messages a client with a token published. */
  messages: { offset: number; data: T; from?: string }[]
  /** The topic's newest offset when it was read. */
  last: number
  /** `from` was older than retention: offsets `from`..`to` are gone; the messages start after them. */
  gap?: { reason: 'retention'; from: number; to: number }
}

export interface PresenceAnswer {
  topic: string
  users: { user: string; sessions: number }[]
}

export interface DisconnectAnswer {
  closed: number
  /** Live nodes that did not answer in time (absent when every one did). */
  unanswered?: string[]
}

export class ServerApiError extends Error {
  override readonly name = 'ServerApiError'
  constructor(
    /** The API's code (`UNAUTHORIZED`, `STORE_UNAVAILABLE`, …), or `NETWORK` when no answer came. */
    readonly code: string,
    message: string,
    /** The HTTP status; 0 when no answer came. */
    readonly status: number,
  ) {
    super(message)
  }
}

export interface ServerApi {
  publish(topic: string, data: unknown, options?: { idempotencyKey?: string }): Promise<Published>
  history<T = unknown>(topic: string, options?: { from?: number | 'earliest'; limit?: number }): Promise<HistoryAnswer<T>>
  presence(topic: string): Promise<PresenceAnswer>
  disconnect(user: string): Promise<DisconnectAnswer>
}

/** Delays before the retries of a publish with an idempotencyKey: quick, then a little slower. */
const RETRY_DELAYS_MS = [100, 400, 1_600]

export function createServerApi(options: ServerApiOptions): ServerApi {
  const base = options.url.replace(/^ws(s?):/, 'http$1:').replace(/\/+$/, '')
  const f = options.fetch ?? fetch
  const timeoutMs = options.timeoutMs ?? 10_000
  const retries = options.retries ?? 2

  const call = async <R>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<R> => {
    let res: Response
    try {
      res = await f(`${base}/_lifeline/v1/${path}`, {
        method,
        headers: { authorization: `Bearer ${options.apiKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (e) {
      throw new ServerApiError('NETWORK', `no answer from ${base}: ${(e as Error)?.message ?? String(e)}`, 0)
    }
    const text = await res.text()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      throw new ServerApiError('BAD_RESPONSE', `${res.status} from ${base} with a body that is not JSON: ${text.slice(0, 200)}`, res.status)
    }
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string } })?.error
      throw new ServerApiError(err?.code ?? 'BAD_RESPONSE', err?.message ?? text.slice(0, 200), res.status)
    }
    return json as R
  }
  const q = (params: Record<string, string | number | undefined>): string =>
    new URLSearchParams(Object.entries(params).flatMap(([k, v]): [string, string][] => (v === undefined ? [] : [[k, String(v)]]))).toString()

  return {
    async publish(topic, data, o = {}) {
      const body = { topic, data, ...(o.idempotencyKey !== undefined ? { idempotencyKey: o.idempotencyKey } : {}) }
      for (let attempt = 0; ; attempt++) {
        try {
          return await call<Published>('POST', 'publish', body)
        } catch (e) {
          const retryable = e instanceof ServerApiError && (e.status === 503 || e.code === 'NETWORK')
          if (!retryable || o.idempotencyKey === undefined || attempt >= retries) throw e
          await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]))
        }
      }
    },
    history: (topic, o = {}) => call('GET', `history?${q({ topic, from: o.from, limit: o.limit })}`),
    presence: (topic) => call('GET', `presence?${q({ topic })}`),
    disconnect: (user) => call('POST', 'disconnect', { user }),
  }
}
