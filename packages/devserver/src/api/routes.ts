/**
 * The HTTP API for apps' backends, as a pure function of method, URL and parsed body: which action, with which
 * checked arguments, or which error. No I/O (api/handler.ts does it), so every refusal is tested without a server.
 *
 *   POST /_lifeline/v1/publish     { topic, data, idempotencyKey? }      → { topic, offset, epoch }
 *   GET  /_lifeline/v1/history     ?topic=T&from=N|earliest&limit=L      → { topic, epoch, messages, last, gap? }
 *   GET  /_lifeline/v1/presence    ?topic=T                              → { topic, users: [{ user, sessions }] }
 *   POST /_lifeline/v1/disconnect  { user }                              → { closed, unanswered? }
 */
import { isReservedTopic, MAX_DATA_DEPTH, Topic } from '@lifeline/protocol'
import { ClusterErrorCode } from '../errors.js'
import { quoteInput } from '../http/parse.js'

export const API_PREFIX = '/_lifeline/v1/'

/** Longest idempotencyKey: room for a UUID or a `<job>:<attempt>` of the backend's, bounded per key kept. */
export const MAX_IDEMPOTENCY_KEY = 256

export type ApiAction =
  | { kind: 'publish'; topic: string; data: unknown; idempotencyKey: string | undefined }
  | { kind: 'history'; topic: string; from: number | 'earliest' | undefined; limit: number | undefined }
  | { kind: 'presence'; topic: string }
  | { kind: 'disconnect'; user: string }

export type ApiError = { error: { code: ClusterErrorCode; message: string } }

const ROUTES: Record<string, 'GET' | 'POST'> = { publish: 'POST', history: 'GET', presence: 'GET', disconnect: 'POST' }

/** Which route, before the body is read: `body` says whether it has one to read. */
export function routeOf(method: string, url: URL): { name: keyof typeof ROUTES; body: boolean } | ApiError {
  const name = url.pathname.slice(API_PREFIX.length)
  const want = Object.hasOwn(ROUTES, name) ? ROUTES[name] : undefined
  if (!want) return fail('NOT_FOUND', `no API route ${url.pathname}; routes: POST publish, GET history, GET presence, POST disconnect under ${API_PREFIX}`)
  if (method !== want) return fail('METHOD_NOT_ALLOWED', `${method} ${url.pathname}: use ${want}`)
  return { name, body: want === 'POST' }
}

/** The action for a route, its query and its JSON body (already parsed: `undefined` for a GET). */
export function actionOf(name: string, url: URL, body: unknown): ApiAction | ApiError {
  const q = url.searchParams
  if (name === 'history' || name === 'presence') {
    const topic = topicOf(q.get('topic'), 'topic')
    if (typeof topic !== 'string') return topic
    if (name === 'presence') return { kind: 'presence', topic }
    const from = q.get('from')
    const limit = q.get('limit')
    const fromValue = from === null ? undefined : from === 'earliest' ? 'earliest' : integer(from, 0)
    if (fromValue === null) return fail('BAD_OPTION', `from: expected an offset (an integer >= 0) or "earliest", got ${quoteInput(from ?? '')}`)
    const limitValue = limit === null ? undefined : integer(limit, 1)
    if (limitValue === null) return fail('BAD_OPTION', `limit: expected an integer >= 1, got ${quoteInput(limit ?? '')}`)
    return { kind: 'history', topic, from: fromValue, limit: limitValue }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail('BAD_REQUEST', 'the body must be a JSON object')
  const b = body as Record<string, unknown>
  if (name === 'disconnect') {
    if (typeof b.user !== 'string' || b.user.length === 0) return fail('BAD_OPTION', 'user: expected the user id (the `sub` of their tokens)')
    return { kind: 'disconnect', user: b.user }
  }
  const topic = topicOf(b.topic, 'topic')
  if (typeof topic !== 'string') return topic
  if (!('data' in b)) return fail('BAD_OPTION', 'data: required (any JSON value; null is one)')
  const key = b.idempotencyKey
  if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY)) {
    return fail('BAD_OPTION', `idempotencyKey: expected a string of 1 to ${MAX_IDEMPOTENCY_KEY} characters`)
  }
  return { kind: 'publish', topic, data: b.data, idempotencyKey: key }
}

/** The body's nesting limit: the object around `data` is one level, as a client frame's is. */
export const BODY_MAX_DEPTH = MAX_DATA_DEPTH + 1

function topicOf(value: unknown, field: string): string | ApiError {
  if (typeof value !== 'string' || value.length === 0) return fail('BAD_OPTION', `${field}: required`)
  if (isReservedTopic(value)) return fail('RESERVED_TOPIC', `${field}: ${quoteInput(value)} is reserved (topics starting with @ are the server's own)`)
  if (!Topic.safeParse(value).success) return fail('BAD_OPTION', `${field}: ${quoteInput(value)} is not a topic name (1-256 of A-Z a-z 0-9 _ . : / -)`)
  return value
}

/** A decimal integer ≥ min, or null. */
function integer(text: string, min: number): number | null {
  if (!/^\d{1,15}$/.test(text)) return null
  const n = Number(text)
  return n >= min ? n : null
}

function fail(code: ClusterErrorCode, message: string): ApiError {
  return { error: { code, message } }
}
