/**
 * Client writes, `pub` and `send`, as decisions: is this seq the next one, what does the store's answer mean.
 * Each write becomes one atomic store apply (generation check, seq check, appends, acked = seq), and its ack
 * goes out after it, cumulative and in order.
 *
 * An `error` frame carries `seq` when that seq was consumed (the op was refused for good: RESERVED_TOPIC,
 * HANDLER_FAILED, DATA_TOO_DEEP) or, for STORE_UNAVAILABLE, when it was not acknowledged and must be resent;
 * SEQ_GAP leaves the op to a plain resend after reconnecting and carries none, so the SDK keeps it in its outbox.
 */
import { CloseCode, ErrorCode, INBOX_TOPIC, isReservedTopic } from '@lifeline/protocol'
import type { ApplyResult } from '../../store/types.js'

/** Why an op was refused for good: sent as an `error` frame with its seq. */
export interface Refusal {
  code: string
  message: string
  topic?: string
}

/** `pub` to a reserved topic is refused (its seq consumed), so nobody can forge a message into an inbox. */
export function pubRefusal(topic: string): Refusal | undefined {
  if (!isReservedTopic(topic)) return undefined
  return { code: ErrorCode.RESERVED_TOPIC, message: `topic ${topic} is reserved: clients cannot publish to it`, topic }
}

/** `subscribe` to a reserved topic other than the caller's own `@inbox` is refused. */
export function subRefusal(topic: string): Refusal | undefined {
  if (topic === INBOX_TOPIC || !isReservedTopic(topic)) return undefined
  return { code: ErrorCode.RESERVED_TOPIC, message: `topic ${topic} is reserved`, topic }
}

export type SeqVerdict =
  /** acked + 1: apply it. */
  | { type: 'next' }
  /** ≤ acked: applied already; acknowledge again, run nothing. */
  | { type: 'duplicate' }
  /** Skipped ahead: the client's outbox and the server disagree; close so it resends from acked + 1. */
  | { type: 'gap'; code: number; error: string; message: string }

export function seqVerdict(acked: number, seq: number): SeqVerdict {
  if (seq <= acked) return { type: 'duplicate' }
  if (seq > acked + 1) return { type: 'gap', code: CloseCode.SEQ_GAP, error: ErrorCode.SEQ_GAP, message: `expected seq ${acked + 1}, got ${seq}: resend from ${acked + 1}` }
  return { type: 'next' }
}

export type ApplyVerdict =
  /** Acknowledge up to `acked`; `refusal` (for an applied op that was refused for good) goes out first. */
  | { type: 'ack'; acked: number; refusal: Refusal | undefined }
  /** End the connection with this code (an `error` frame first when `error` is set). */
  | { type: 'close'; code: number; reason: string; error?: string }

/** What the store's answer to an apply of seqs `seq`..`through` (one seq unless batched) means for the connection. */
export function applyVerdict(result: ApplyResult, acked: number, seq: number, refusal: Refusal | undefined, through = seq): ApplyVerdict {
  switch (result.status) {
    case 'applied':
    case 'duplicate':
      return { type: 'ack', acked: Math.max(acked, through), refusal: result.status === 'applied' ? refusal : undefined }
    case 'seq-gap':
      return { type: 'close', code: CloseCode.SEQ_GAP, error: ErrorCode.SEQ_GAP, reason: `expected seq ${result.acked + 1}, got ${seq}: resend from ${result.acked + 1}` }
    case 'stale-generation':
      // A newer connection claimed the session (this node was frozen, or the client moved): this one is a zombie.
      return { type: 'close', code: CloseCode.SESSION_MOVED, reason: 'session moved to a newer connection' }
    case 'unknown-session':
      return { type: 'close', code: CloseCode.INTERNAL_ERROR, reason: 'session expired; reconnect to start a new one' }
  }
}
