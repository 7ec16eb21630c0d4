/**
 * `hello` → `welcome`: authorize, then resume the session the token proves or start a new one, then set up
 * the subscriptions the client asked for.
 */
import type { IncomingMessage } from 'node:http'
import { CloseCode, ErrorCode, INBOX_TOPIC, type Hello } from '@lifeline/protocol'
import { inboxTopic } from '../store/inbox.js'
import type { SessionRecord } from '../store/types.js'
import { newGeneration, newSessionId, signSession, verifyToken } from '../security/token.js'
import type { Connection } from './connection.js'

export async function hello(conn: Connection, frame: Hello): Promise<void> {
  const { ctx } = conn
  const { options } = ctx
  const request = conn.takeRequest()
  const topics = Object.keys(frame.subs)
  // Topics past the limit are refused one by one after the welcome (TOO_MANY_SUBSCRIPTIONS with the topic), so a
  // client that learned a larger limit from another node is never wedged; twice the limit is no such client.
  const counted = topics.length - (INBOX_TOPIC in frame.subs ? 1 : 0)
  if (counted > 2 * options.maxSubscriptions) {
    const message = `hello.subs: ${counted} topics, far over this server's limit of ${options.maxSubscriptions} per connection (besides @inbox)`
    return conn.refuse(ErrorCode.TOO_MANY_SUBSCRIPTIONS, message, CloseCode.BAD_FRAME)
  }

  const refusal = await authorize(conn, frame, request)
  if (refusal !== null) return conn.refuse(ErrorCode.UNAUTHORIZED, refusal, CloseCode.UNAUTHORIZED)

  let record: SessionRecord | undefined
  let reset: 'expired' | 'taken' | undefined
  if (frame.resume) {
    const token = verifyToken(ctx.secret, frame.resume.token)
    if (token === null) {
      return conn.refuse(ErrorCode.INVALID_TOKEN, 'resume token is forged, malformed or from another cluster; start a new session', CloseCode.INVALID_TOKEN)
    }
    const claim = { presented: token.generation, instance: frame.instance, attempt: frame.attempt ?? 0, lastSeq: frame.resume.lastSeq, next: newGeneration() }
    let result
    try {
      result = await ctx.store.claimSession(token.session, options.sessionTtlMs, claim)
    } catch (e) {
      return conn.fail(e)
    }
    // An older hello of the client that holds the session now (it waited in a buffer while the client moved on):
    // it claims nothing, and its socket is of no use to anyone.
    if (result.status === 'stale') return conn.close(CloseCode.SESSION_MOVED, 'a newer connection of this client holds the session')
    if (result.status === 'claimed') record = result.record
    else reset = result.status === 'taken' ? 'taken' : 'expired'
    // A copy of another client's persisted state (a duplicated tab) or a store that lost newer claims: worth a
    // line, because the client is about to tell its app that its pending sends' fate is unknown.
    if (reset === 'taken') ctx.log(`session ${token.session}: resume refused, its token is no longer current (a copy of another client's state?); new session`)
  }
  if (!record) {
    try {
      // Unknown, expired or taken: a new session; `resumed: false` with `reset` tells the SDK to raise `reset`.
      record = await ctx.store.createSession(newSessionId(), options.sessionTtlMs, { generation: newGeneration(), instance: frame.instance, attempt: frame.attempt ?? 0 })
    } catch (e) {
      return conn.fail(e)
    }
  }
  if (conn.phase.t === 'closed') return

  conn.phase = { t: 'open', session: record.id, generation: record.generation, acked: record.acked, inbox: inboxTopic(record.id) }
  ctx.own(conn, record.id)
  conn.frame({
    t: 'welcome',
    session: { id: record.id, token: signSession(ctx.secret, record.id, record.generation) },
    resumed: reset === undefined && frame.resume !== undefined,
    ...(reset ? { reset } : {}),
    node: ctx.id,
    acked: record.acked,
    heartbeatMs: options.heartbeatMs,
    timeoutMs: options.timeoutMs,
    maxFrameBytes: options.maxFrameBytes,
    maxSubscriptions: options.maxSubscriptions,
  })
  for (const topic of topics) conn.subscribe(topic, frame.subs[topic] ?? null)
}

/** null when accepted, else the reason shown to the client. */
async function authorize(conn: Connection, frame: Hello, request: IncomingMessage | undefined): Promise<string | null> {
  const hook = conn.ctx.options.authorize
  if (!hook) return null
  // hello is handled once per connection (a second one is HELLO_EXPECTED), so the request is always here.
  if (!request) return 'unauthorized'
  try {
    const verdict = await hook(frame, request)
    if (verdict === false) return 'unauthorized'
    if (typeof verdict === 'string') return verdict || 'unauthorized'
    return null
  } catch (e) {
    return (e as Error)?.message || 'unauthorized'
  }
}
