/**
 * `hello` → `welcome`, as decisions: is the hello acceptable at all, what a claim's answer means, what the
 * welcome says. The connection core runs the steps (authorize, claim or create, welcome, subscriptions).
 */
import { CloseCode, ErrorCode, INBOX_TOPIC, PROTOCOL_VERSION, type Hello, type Welcome } from '@lifeline/protocol'
import type { SessionRecord } from '../../store/types.js'
import { signSession } from '../../security/token.js'
import type { CoreConfig } from './types.js'

export type HelloRefusal = { code: string; message: string; close: number }

/** A hello refused before any store call: wrong version, or far too many topics. */
export function helloRefusal(frame: Hello, config: CoreConfig): HelloRefusal | undefined {
  if (frame.v !== PROTOCOL_VERSION) {
    const message = `protocol version ${frame.v} is not supported; this server speaks ${PROTOCOL_VERSION}`
    return { code: ErrorCode.UNSUPPORTED_VERSION, message, close: CloseCode.UNSUPPORTED_VERSION }
  }
  // Topics past the limit are refused one by one after the welcome (TOO_MANY_SUBSCRIPTIONS with the topic), so a
  // client that learned a larger limit from another node is never wedged; twice the limit is no such client.
  const counted = Object.keys(frame.subs).length - (INBOX_TOPIC in frame.subs ? 1 : 0)
  if (counted > 2 * config.maxSubscriptions) {
    const message = `hello.subs: ${counted} topics, far over this server's limit of ${config.maxSubscriptions} per connection (besides @inbox)`
    return { code: ErrorCode.TOO_MANY_SUBSCRIPTIONS, message, close: CloseCode.BAD_FRAME }
  }
  return undefined
}

/** The welcome for a session this connection now holds. `reset`: why a requested resume did not happen. */
export function welcomeFrame(config: CoreConfig, record: SessionRecord, resumed: boolean, reset: 'expired' | 'taken' | undefined): Welcome {
  return {
    t: 'welcome',
    session: { id: record.id, token: signSession(config.secret, record.id, record.generation) },
    resumed,
    ...(reset ? { reset } : {}),
    node: config.node,
    acked: record.acked,
    heartbeatMs: config.heartbeatMs,
    timeoutMs: config.timeoutMs,
    maxFrameBytes: config.maxFrameBytes,
    maxSubscriptions: config.maxSubscriptions,
  }
}
