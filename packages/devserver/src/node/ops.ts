/**
 * An `error` frame carries `seq` when that seq was consumed (the op was refused for good: RESERVED_TOPIC,
 * HANDLER_FAILED) or, for STORE_UNAVAILABLE, when it was not applied and must be resent; SEQ_GAP leaves the op to
 * a plain resend after reconnecting and carries none, so the SDK keeps it in its outbox.
 *
 * Client writes: `pub` and `send`. Each becomes one atomic store apply (generation check, seq check, appends,
 * acked = seq), and the ack goes out after it, cumulative and in order.
 */
import { CloseCode, ErrorCode, INBOX_TOPIC, type Pub, type Send } from '@lifeline/protocol'
import type { Connection } from './connection.js'
import type { MessageContext } from './options.js'

type Append = { topic: string; data: unknown; bytes?: number }
type Refusal = { code: string; message: string; topic?: string }

export async function pub(conn: Connection, frame: Pub, bytes: number): Promise<void> {
  if (!inOrder(conn, frame.seq)) return
  // Clients read @inbox; only the server writes it (ctx.reply), so nobody can forge a message into an inbox.
  if (frame.topic === INBOX_TOPIC || frame.topic.startsWith('@')) {
    const refusal = { code: ErrorCode.RESERVED_TOPIC, message: `topic ${frame.topic} is reserved: clients cannot publish to it`, topic: frame.topic }
    return commit(conn, frame.seq, [], refusal)
  }
  return commit(conn, frame.seq, [{ topic: frame.topic, data: frame.data, bytes }])
}

export async function send(conn: Connection, frame: Send): Promise<void> {
  if (!inOrder(conn, frame.seq)) return
  if (conn.phase.t !== 'open') return
  const { session, inbox } = conn.phase
  const appends: Append[] = []
  let sealed = false
  const ctx: MessageContext = {
    session: { id: session },
    node: conn.ctx.id,
    publish(topic, data) {
      if (sealed) throw new Error('ctx.publish called after the handler returned; await your work inside onMessage')
      if (topic.startsWith('@')) throw new Error(`ctx.publish: topic ${topic} is reserved; use ctx.reply for the sender's inbox`)
      appends.push({ topic, data })
    },
    reply(data) {
      if (sealed) throw new Error('ctx.reply called after the handler returned; await your work inside onMessage')
      appends.push({ topic: inbox, data })
    },
  }
  try {
    await withTimeout(conn.ctx.options.onMessage(ctx, frame.data), conn.ctx.options.handlerTimeoutMs)
  } catch (e) {
    const reason = (e as Error)?.message ?? String(e)
    conn.ctx.log(`onMessage threw for seq ${frame.seq}: ${reason}`)
    // Refused for good, its seq consumed and nothing it published applied. Retrying would not help: a handler
    // that throws on this data throws again on the resend, and every later send of the session would wait
    // behind it (a poison message). The SDK rejects this send with HANDLER_FAILED; the app decides.
    return commit(conn, frame.seq, [], { code: ErrorCode.HANDLER_FAILED, message: `the server's message handler refused this send: ${reason}` })
  } finally {
    sealed = true
  }
  return commit(conn, frame.seq, appends)
}

/**
 * The handler's promise, or a rejection once `ms` passed: a handler that never settles would otherwise hold this
 * connection's queue (and every later frame of the session) forever. What it does after the timeout is sealed
 * off: ctx.publish/reply throw, and the send is refused with HANDLER_FAILED.
 */
async function withTimeout(work: void | Promise<void>, ms: number): Promise<void> {
  if (!(work instanceof Promise)) return
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`it did not settle within handlerTimeoutMs (${ms} ms)`)), ms)
  })
  try {
    await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** An op refused before it could run (its data is too deep): its seq is consumed, with an `error` naming it. */
export async function refuseOp(conn: Connection, seq: number, refusal: Refusal): Promise<void> {
  if (!inOrder(conn, seq)) return
  return commit(conn, seq, [], refusal)
}

/** Duplicates are acked at once (no handler re-run); a seq that skips ahead closes 4422. */
function inOrder(conn: Connection, seq: number): boolean {
  if (conn.phase.t !== 'open') return false
  const { acked } = conn.phase
  if (seq <= acked) {
    conn.frame({ t: 'ack', seq: acked })
    return false
  }
  if (seq > acked + 1) {
    conn.refuse(ErrorCode.SEQ_GAP, `expected seq ${acked + 1}, got ${seq}: resend from ${acked + 1}`, CloseCode.SEQ_GAP)
    return false
  }
  return true
}

/** One apply; a refused op still consumes its seq (error frame with the seq, then the ack). */
async function commit(conn: Connection, seq: number, appends: Append[], refusal?: Refusal): Promise<void> {
  if (conn.phase.t !== 'open') return
  const { session, generation } = conn.phase
  let result
  try {
    result = await conn.ctx.store.apply({ session, generation, seq, appends })
  } catch (e) {
    // Not acked: the op stays in the client's outbox and goes through once the store is back.
    conn.ctx.log(`store apply failed: ${(e as Error)?.message ?? String(e)}`)
    return conn.refuse(ErrorCode.STORE_UNAVAILABLE, 'the store did not answer; this op was not applied', CloseCode.STORE_UNAVAILABLE, { seq })
  }
  if (conn.phase.t !== 'open') return
  switch (result.status) {
    case 'applied':
    case 'duplicate':
      conn.phase.acked = Math.max(conn.phase.acked, seq)
      if (refusal && result.status === 'applied') conn.frame({ t: 'error', seq, ...refusal })
      return conn.frame({ t: 'ack', seq: conn.phase.acked })
    case 'seq-gap':
      return conn.refuse(ErrorCode.SEQ_GAP, `expected seq ${result.acked + 1}, got ${seq}: resend from ${result.acked + 1}`, CloseCode.SEQ_GAP)
    case 'stale-generation':
      // A newer connection claimed the session (this node was frozen, or the client moved): this one is a zombie.
      return conn.close(CloseCode.SESSION_MOVED, 'session moved to a newer connection')
    case 'unknown-session':
      return conn.close(CloseCode.INTERNAL_ERROR, 'session expired; reconnect to start a new one')
  }
}
