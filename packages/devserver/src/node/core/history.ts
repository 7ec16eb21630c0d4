/**
 * The `history` query: a topic's retained messages, read from the store without subscribing. Pure, like the
 * rest of the core: the two store reads (head, then read) go out as the connection's store-call effects and
 * are answered later; nothing here awaits. The query does not hold the connection's frame queue: writes after
 * it go on while the store reads, and the answer comes whenever it is ready (queries are answered by id).
 *
 * Fields of the `query` frame (protocol Query), for `kind: 'history'`:
 * - `topic`, required. `@inbox` is the caller's own inbox; other reserved topics are refused (RESERVED_TOPIC).
 * - `from`: the first offset wanted, or `'earliest'` (the oldest retained message). Absent: the newest `limit`
 *   messages (the tail, what a page showing "the recent past" wants).
 * - `limit`: at most this many messages; default and maximum in HISTORY below (a larger one is clamped).
 *
 * The answer is `result { id, value: HistoryValue }`. An offset retention has dropped is said, never skipped
 * silently: `value.gap` names the offsets that are gone, and the messages start after them. A topic never
 * written to answers with no messages. A missing topic is `error { code: BAD_FRAME, id }`; a store that fails
 * is `error { code: STORE_UNAVAILABLE, id }` (the connection stays up: a read changed nothing).
 */
import { encode, ErrorCode, type Query } from '@lifeline/protocol'
import type { StoredMessage, TopicHead } from '../../store/types.js'
import type { StoreCall, StoreReply } from './types.js'

export const HISTORY = {
  /** A screenful of a chat or a feed: what an app gets when it does not say. */
  defaultLimit: 100,
  /** One answer is one frame and one store read: 1,000 chat-sized messages are a few hundred KB. */
  maxLimit: 1_000,
  /**
   * UTF-8-ish bytes (JSON text length) of message data in one answer: the default frame limit (1 MiB), so an
   * answer is never larger than the biggest frame a client may send. Past it the answer holds fewer messages
   * (always at least one); the app reads on from the last offset it got, up to `value.last`.
   */
  maxBytes: 1024 * 1024,
} as const

export interface HistoryValue {
  /** The log the offsets are of. */
  epoch: string
  /** Oldest first, each `offset` once, dense unless `gap` says otherwise before the first. */
  messages: { offset: number; data: unknown; from?: string }[]
  /** The topic's newest offset when it was read (0: never written): more exist past the last message when larger. */
  last: number
  /** `from` asked for offsets retention has dropped: `from`..`to` are gone; the messages start after them. */
  gap?: { reason: 'retention'; from: number; to: number }
}

export interface HistoryHost {
  call(call: StoreCall, then: (reply: StoreReply) => void): void
  send(text: string): void
}

/** Answer `frame` (kind 'history'). `storeTopic`: the store topic behind the client's name (its inbox for `@inbox`). */
export function answerHistory(frame: Query, storeTopic: string | undefined, host: HistoryHost): void {
  const id = frame.id
  const refuse = (code: string, message: string) => host.send(encode({ t: 'error', code, message, id, ...(frame.topic ? { topic: frame.topic } : {}) }))
  if (storeTopic === undefined) return refuse(ErrorCode.BAD_FRAME, 'query.topic: history needs a topic')
  const limit = Math.min(frame.limit ?? HISTORY.defaultLimit, HISTORY.maxLimit)
  const failed = (error: string) => refuse(ErrorCode.STORE_UNAVAILABLE, `the store did not answer (${error}); ask again`)
  const ask = (retry: boolean): void =>
    host.call({ method: 'head', args: [storeTopic] }, (h) => {
      if (!h.ok) return failed(h.error)
      const head = h.value as TopicHead
      const from = frame.from
      const tail = from === undefined
      const start = from === undefined ? Math.max(head.first, head.last - limit + 1) : from === 'earliest' ? head.first : Math.max(1, from)
      if (start > head.last) return host.send(encode({ t: 'result', id, value: { epoch: head.epoch, messages: [], last: head.last } satisfies HistoryValue }))
      host.call({ method: 'read', args: [storeTopic, start, limit] }, (r) => {
        if (!r.ok) return failed(r.error)
        const batch = r.value as StoredMessage[]
        // The log was replaced between the two reads (a store restart): its offsets mean other messages now.
        if (batch[0] && batch[0].epoch !== head.epoch) return retry ? ask(false) : failed('the log changed while it was read')
        const value: HistoryValue = { epoch: head.epoch, messages: bounded(batch, tail), last: head.last }
        // Only a `from` the app chose can point at what is gone; 'earliest' and the tail ask for what is retained.
        const firstKept = batch[0]?.offset ?? head.last + 1
        if (typeof from === 'number' && firstKept > start) value.gap = { reason: 'retention', from: start, to: firstKept - 1 }
        host.send(encode({ t: 'result', id, value }))
      })
    })
  ask(true)
}

/** At most HISTORY.maxBytes of data, at least one message: the oldest kept from a `from`, the newest of a tail. */
function bounded(batch: StoredMessage[], tail: boolean): HistoryValue['messages'] {
  // `from`: the publisher's user, as on a live `msg` (absent for server publishes and open servers).
  const out = batch.map((m) => (m.from === undefined ? { offset: m.offset, data: m.data } : { offset: m.offset, data: m.data, from: m.from }))
  let bytes = 0
  const order = tail ? [...out].reverse() : out
  let keep = 0
  for (const m of order) {
    bytes += JSON.stringify(m.data)?.length ?? 4
    if (keep > 0 && bytes > HISTORY.maxBytes) break
    keep++
  }
  return tail ? out.slice(out.length - keep) : out.slice(0, keep)
}
