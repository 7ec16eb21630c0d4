/**
 * The HTTP API's I/O: on every node's port, requests under /_lifeline/v1/ are authenticated with an API key,
 * their body read (bounded) and parsed, routed (routes.ts, pure) and answered from the store. Errors are
 * `{ error: { code, message } }` with the codes and statuses of ../errors.ts. Nothing a request sends can throw
 * out of here: a failure of ours is answered 500 INTERNAL and logged.
 *
 * History is answered by the same code as a client's `history` query (node/core/history.ts), so both read the
 * same messages, with the same gap, the same limits.
 */
import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { jsonDepthExceeds, MAX_DATA_DEPTH } from '@lifeline/protocol'
import { ERROR_STATUS, errorBody, type ClusterErrorCode } from '../errors.js'
import { parseTarget } from '../http/parse.js'
import { readBody } from '../http/body.js'
import { answerHistory } from '../node/core/history.js'
import type { DisconnectResult } from '../node/disconnect.js'
import type { Store } from '../store/types.js'
import { actionOf, API_PREFIX, BODY_MAX_DEPTH, routeOf, type ApiAction } from './routes.js'

export interface ApiHost {
  readonly store: Store
  /** Checks a presented key; undefined when the node has none (the API is off: API_DISABLED). */
  readonly apiKey: ((presented: string) => boolean) | undefined
  /** Largest body: the node's maxFrameBytes, the bound a client's publish has. */
  readonly maxBodyBytes: number
  readonly idempotencyTtlMs: number
  disconnect(user: string): Promise<DisconnectResult>
  log(line: string): void
}

/** The API as a request handler: true when the request was the API's (answered, or being answered). */
export function createApiHandler(host: ApiHost): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const target = parseTarget(req.url)
    if (!target?.url.pathname.startsWith(API_PREFIX)) return false
    serve(host, req, res, target.url).catch((e: unknown) => {
      host.log(`API ${req.method} ${target.url.pathname} failed: ${(e as Error)?.stack ?? String(e)}; answered 500`)
      if (!res.headersSent) reply(res, 'INTERNAL', `the node failed on this request (${String(e)}); it is logged`)
      else res.destroy()
    })
    return true
  }
}

async function serve(host: ApiHost, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (!host.apiKey) return reply(res, 'API_DISABLED', 'this node has no API key, so its HTTP API is off: start it with --api-key (or LIFELINE_API_KEYS, createNode({ apiKeys }))')
  const auth = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')
  if (!auth) return reply(res, 'UNAUTHORIZED', 'send the API key as `Authorization: Bearer <key>`')
  if (!host.apiKey(auth[1]!)) return reply(res, 'UNAUTHORIZED', 'this API key is not one of the node\'s (--api-key)')
  const route = routeOf(req.method ?? 'GET', url)
  if ('error' in route) return reply(res, route.error.code, route.error.message)
  let body: unknown
  if (route.body) {
    const text = await readBody(req, host.maxBodyBytes)
    if (text === undefined) return reply(res, 'MESSAGE_TOO_BIG', `the body is over ${host.maxBodyBytes} bytes (the node's maxFrameBytes, as for a client's publish)`, true)
    if (jsonDepthExceeds(text, BODY_MAX_DEPTH)) return reply(res, 'DATA_TOO_DEEP', `data nests arrays/objects deeper than ${MAX_DATA_DEPTH} levels`)
    try {
      body = JSON.parse(text)
    } catch (e) {
      return reply(res, 'BAD_REQUEST', `the body is not JSON (${(e as Error).message})`)
    }
  }
  const action = actionOf(route.name, url, body)
  if ('error' in action) return reply(res, action.error.code, action.error.message)
  try {
    const { value, headers } = await perform(host, action)
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers })
    res.end(JSON.stringify(value))
  } catch (e) {
    if (e instanceof ApiRefusal) return reply(res, e.code, e.message)
    // The store failed (unreachable, timed out): nothing we can tell apart from "not applied". The key makes a retry safe.
    reply(res, 'STORE_UNAVAILABLE', `the store did not answer (${(e as Error)?.message ?? String(e)}); retry (with the same idempotencyKey, a publish applies once)`)
  }
}

class ApiRefusal extends Error {
  constructor(
    readonly code: ClusterErrorCode,
    message: string,
  ) {
    super(message)
  }
}

async function perform(host: ApiHost, action: ApiAction): Promise<{ value: unknown; headers?: Record<string, string> }> {
  const store = host.store
  switch (action.kind) {
    case 'publish': {
      const { topic, data, idempotencyKey } = action
      if (idempotencyKey === undefined) {
        const m = await store.append(topic, data)
        return { value: { topic, offset: m.offset, epoch: m.epoch } }
      }
      const fingerprint = createHash('sha256').update(`${topic}\n${JSON.stringify(data) ?? 'null'}`).digest('base64url')
      const r = await store.appendOnce(topic, data, { key: idempotencyKey, fingerprint, ttlMs: host.idempotencyTtlMs })
      if (r.fingerprint !== fingerprint) {
        throw new ApiRefusal('IDEMPOTENCY_CONFLICT', `idempotencyKey ${JSON.stringify(idempotencyKey)} was used for another publish (topic ${r.topic}, other data) within ${host.idempotencyTtlMs} ms; use a new key per publish`)
      }
      // Idempotent-Replayed: the header Stripe's API uses to say "this is the first answer, again".
      return { value: { topic: r.topic, offset: r.offset, epoch: r.epoch }, headers: r.repeated ? { 'idempotent-replayed': 'true' } : {} }
    }
    case 'history':
      return { value: { topic: action.topic, ...(await history(store, action)) } }
    case 'presence':
      return { value: { topic: action.topic, users: await store.listPresence(action.topic) } }
    case 'disconnect':
      return { value: await host.disconnect(action.user) }
  }
}

/** The `history` query's answer (core/history.ts), with the store called directly. */
function history(store: Store, a: Extract<ApiAction, { kind: 'history' }>): Promise<object> {
  const frame = { t: 'query' as const, id: 1, kind: 'history', topic: a.topic, ...(a.from !== undefined ? { from: a.from } : {}), ...(a.limit !== undefined ? { limit: a.limit } : {}) }
  const methods = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
  return new Promise((resolve, reject) =>
    answerHistory(frame, a.topic, {
      call: (c, then) => {
        methods[c.method]!.apply(store, c.args).then(
          (value) => then({ ok: true, value }),
          (e: unknown) => then({ ok: false, error: (e as Error)?.message ?? String(e) }),
        )
      },
      send: (text) => {
        const f = JSON.parse(text) as { t: string; value?: object; message?: string }
        if (f.t === 'result') resolve(f.value!)
        else reject(new Error(f.message))
      },
    }),
  )
}

/** An error answer at the code's status. `close`: the rest of the request is not read, so the connection goes. */
function reply(res: ServerResponse, code: ClusterErrorCode, message: string, close = false): void {
  res.writeHead(ERROR_STATUS[code], { 'content-type': 'application/json', 'cache-control': 'no-store', ...(close ? { connection: 'close' } : {}) })
  res.end(JSON.stringify(errorBody(code, message)))
}
