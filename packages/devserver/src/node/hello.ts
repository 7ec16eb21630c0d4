/**
 * `hello` → `welcome`: authorize, then resume the session the token proves or start a new one, then set up
 * the subscriptions the client asked for.
 */
import type { IncomingMessage } from 'node:http'
import { CloseCode, ErrorCode, type Hello } from '@lifeline/protocol'
import { inboxTopic } from '../store/inbox.js'
import type { SessionRecord } from '../store/types.js'
import { newSessionId, signSession, verifyToken } from '../security/token.js'
import type { Connection } from './connection.js'

export async function hello(conn: Connection, frame: Hello): Promise<void> {
  const { ctx } = conn
  const { options } = ctx
  const request = conn.takeRequest()
  const topics = Object.keys(frame.subs)
  if (topics.length > options.maxSubscriptions) {
    return conn.refuse(ErrorCode.BAD_FRAME, `hello.subs: at most ${options.maxSubscriptions} topics per connection, got ${topics.length}`, CloseCode.BAD_FRAME)
  }

  const refusal = await authorize(conn, frame, request)
  if (refusal !== null) return conn.refuse(ErrorCode.UNAUTHORIZED, refusal, CloseCode.UNAUTHORIZED)

  let claimed: SessionRecord | null = null
  if (frame.resume) {
    const id = verifyToken(ctx.secret, frame.resume.token)
    if (id === null) {
      return conn.refuse(ErrorCode.INVALID_TOKEN, 'resume token is forged, malformed or from another cluster; start a new session', CloseCode.INVALID_TOKEN)
    }
    try {
      claimed = await ctx.store.claimSession(id, options.sessionTtlMs)
    } catch (e) {
      return conn.fail(e)
    }
  }
  let record = claimed
  if (!record) {
    try {
      // Unknown or expired: a new session; `resumed: false` tells the SDK to raise `reset`.
      record = await ctx.store.createSession(newSessionId(), options.sessionTtlMs)
    } catch (e) {
      return conn.fail(e)
    }
  }
  if (conn.phase.t === 'closed') return

  conn.phase = { t: 'open', session: record.id, generation: record.generation, acked: record.acked, inbox: inboxTopic(record.id) }
  ctx.own(conn, record.id)
  conn.frame({
    t: 'welcome',
    session: { id: record.id, token: signSession(ctx.secret, record.id) },
    resumed: claimed !== null,
    node: ctx.id,
    acked: record.acked,
    heartbeatMs: options.heartbeatMs,
    timeoutMs: options.timeoutMs,
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
