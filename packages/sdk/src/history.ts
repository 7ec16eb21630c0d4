/**
 * `client.history()` as the core sees it: its options checked before anything is sent (a `query` the server
 * cannot decode would close the connection, failing every other call on it), and the answer checked and
 * typed before the app gets it (server data is distrusted, like every frame: decode.ts). The server's side,
 * with the default and maximum `limit`: packages/devserver/src/node/core/history.ts.
 */
import { ErrorCode } from '@lifeline/protocol'
import { isOffset } from './decode.js'
import type { Sink } from './effects.js'
import { LifelineError, refusal } from './errors.js'
import { checkData, isFrom, topicError } from './session.js'
import type { History, SchemaLike } from './types.js'

/** The query's fields (undefined ones are left out of the frame by JSON), or why the options are wrong. */
export function historyFields(topic: string, from: unknown, limit: unknown): object | LifelineError {
  const bad = topicError('history', topic)
  if (bad) return bad
  if ((from !== undefined && !isFrom(from)) || (limit !== undefined && !isOffset(limit, 1))) {
    return refusal(ErrorCode.BAD_FRAME, 'history', topic, "from must be 'earliest' or an offset >= 1; limit >= 1")
  }
  return { topic, from, limit }
}

/** The answer's value as `History<T>`: its shape checked, each message's data through `schema` (INVALID_DATA: skipped, reported). */
export function historyValue<T>(topic: string, v: unknown, schema: SchemaLike<T> | undefined, sink: Sink<T>): History<T> | LifelineError {
  const h = v as History | null
  const gap = h?.gap
  if (
    typeof h?.epoch !== 'string' ||
    !isOffset(h.last, 0) ||
    !Array.isArray(h.messages) ||
    !h.messages.every((m) => isOffset(m?.offset, 1)) ||
    (gap !== undefined && !(isOffset(gap?.from, 0) && isOffset(gap.to, 0)))
  ) {
    return new LifelineError(ErrorCode.BAD_SERVER_FRAME, `bad frame from the server: history of ${topic}`, { topic })
  }
  const messages: History<T>['messages'] = []
  for (const { offset, data } of h.messages) {
    const r = checkData(schema, sink, topic, offset, data)
    if (r) messages.push({ offset, data: r.data })
  }
  return { epoch: h.epoch, messages, last: h.last, ...(gap && { gap: { reason: 'retention', from: gap.from, to: gap.to } }) }
}
