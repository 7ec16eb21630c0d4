/**
 * Webhooks: how a backend that is not Node (Python, Go, Ruby, PHP …) authorizes connections and handles
 * clients' `send`s, over plain HTTP POSTs of JSON. The node's adapter (socket.ts) calls these where it would
 * call the app's `authorize` and `onMessage` hooks; the core sees the same verdicts and outcomes either way.
 *
 *   connect  POST { session, user, claims, resumed, node } before the welcome.
 *            2xx: let in. 401/403: refused for good (4401), with the backend's message. Anything else (5xx, a
 *            timeout, unreachable, a 404 from a wrong URL): refused with BACKEND_UNAVAILABLE (4502), which the
 *            client retries with backoff; nobody is let in by a backend that did not say yes.
 *   send     POST { session, user, seq, data } with `Idempotency-Key: <session>:<seq>`.
 *            2xx with a body `{ "reply"?: any, "publish"?: [{ "topic", "data" }] }` (or no body): what it names
 *            is appended atomically with the send's seq, as ctx.reply / ctx.publish. 4xx, or a 2xx body that
 *            cannot be applied: the send is refused for good (HANDLER_FAILED, its seq consumed). 5xx, a timeout,
 *            unreachable: nothing applied or acknowledged; the connection closes 4502 and the client resends the
 *            send with the same seq, so the backend sees the same Idempotency-Key again: exactly-once reaches
 *            the backend if it remembers the keys it answered 2xx (it should keep them at least as long as the
 *            node's session TTL).
 * The message a refusal carries is the body's `error.message`, or `message`, or its text (first 200 characters).
 */
import { isReservedTopic, Topic } from '@lifeline/protocol'
import type { HandlerOutcome } from './core/types.js'

export interface WebhookOptions {
  /** The connect webhook's URL (`--on-connect`). Default: none (every verified client is let in). */
  connect?: string
  /** The send webhook's URL (`--on-send`). Default: none (`onMessage` handles sends). */
  send?: string
  /** Longest a webhook call may take, ms; past it, BACKEND_UNAVAILABLE (retried). Default in NODE_DEFAULTS. */
  timeoutMs?: number
}

export interface ConnectPayload {
  session: string
  user: string | undefined
  claims: Record<string, unknown> | undefined
  resumed: boolean
  node: string
}

export interface SendPayload {
  session: string
  user: string | undefined
  seq: number
  data: unknown
}

type Answer = { ok: true; status: number; text: string } | { ok: false; reason: string }

/** The connect webhook's verdict, as the core's `authorized` input takes it. */
export async function connectVerdict(url: string, payload: ConnectPayload, timeoutMs: number): Promise<{ refusal: string | null; retry?: boolean }> {
  const a = await post(url, payload, {}, timeoutMs, 64 * 1024)
  if (!a.ok) return { refusal: `the connect webhook did not answer (${a.reason})`, retry: true }
  if (a.status >= 200 && a.status < 300) return { refusal: null }
  if (a.status === 401 || a.status === 403) return { refusal: messageOf(a.text) || `refused by the app's backend (${a.status})` }
  return { refusal: `the connect webhook answered ${a.status}${messageOf(a.text) ? `: ${messageOf(a.text)}` : ''}`, retry: true }
}

/** The send webhook's outcome for one send. `inbox`: the sender's own store topic (for `reply`). */
export async function sendOutcome(url: string, payload: SendPayload, inbox: string, timeoutMs: number, maxBytes: number): Promise<HandlerOutcome> {
  const a = await post(url, payload, { 'idempotency-key': `${payload.session}:${payload.seq}` }, timeoutMs, maxBytes)
  if (!a.ok) return { ok: false, reason: a.reason, retry: true }
  if (a.status >= 500 || a.status < 200 || (a.status >= 300 && a.status < 400)) {
    return { ok: false, reason: `it answered ${a.status}${messageOf(a.text) ? `: ${messageOf(a.text)}` : ''}`, retry: true }
  }
  if (a.status >= 400) return { ok: false, reason: messageOf(a.text) || `the send webhook answered ${a.status}` }
  return appendsOf(a.text, inbox)
}

/** A 2xx body → what to append. */
function appendsOf(text: string, inbox: string): HandlerOutcome {
  if (text.trim() === '') return { ok: true, appends: [] }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return { ok: false, reason: 'the send webhook answered 2xx with a body that is not JSON' }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, reason: 'the send webhook\'s 2xx body must be an object { reply?, publish? }' }
  const { reply, publish } = body as { reply?: unknown; publish?: unknown }
  const appends: { topic: string; data: unknown }[] = []
  if (publish !== undefined) {
    if (!Array.isArray(publish)) return { ok: false, reason: 'publish must be an array of { topic, data }' }
    for (const p of publish as { topic?: unknown; data?: unknown }[]) {
      const topic = p?.topic
      if (typeof topic !== 'string' || !Topic.safeParse(topic).success) return { ok: false, reason: `publish: ${JSON.stringify(topic)} is not a topic name` }
      if (isReservedTopic(topic)) return { ok: false, reason: `publish: topic ${topic} is reserved; use reply for the sender's inbox` }
      appends.push({ topic, data: p.data ?? null })
    }
  }
  if (reply !== undefined) appends.push({ topic: inbox, data: reply })
  return { ok: true, appends }
}

async function post(url: string, body: unknown, headers: Record<string, string>, timeoutMs: number, maxBytes: number): Promise<Answer> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      // A redirect is the backend's misconfiguration: answered as it came (3xx), not followed with the body.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    })
    return { ok: true, status: res.status, text: await readText(res, maxBytes) }
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } }
    if (err?.name === 'TimeoutError') return { ok: false, reason: `no answer within ${timeoutMs} ms` }
    return { ok: false, reason: err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e) }
  }
}

/** The body as text, refused past `maxBytes` (a backend's bug must not fill the node's memory). */
async function readText(res: Response, maxBytes: number): Promise<string> {
  const reader = res.body?.getReader()
  if (!reader) return ''
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel()
      throw new Error(`its answer is over ${maxBytes} bytes`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function messageOf(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown } | string
    const m = typeof j === 'string' ? j : typeof j?.error === 'object' ? j.error?.message : j?.error ?? j?.message
    if (typeof m === 'string') return m.slice(0, 200)
  } catch {
    // not JSON: the text itself
  }
  return text.trim().slice(0, 200)
}
