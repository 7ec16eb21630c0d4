/** What every connection of one node shares. Built once by createNode. */
import type { Store } from '../store/types.js'
import type { TopicHub } from './hub.js'
import type { Connection } from './connection.js'
import type { AuthorizeHook, MessageHandler } from './options.js'
import type { RateLimit } from './rate-limit.js'

export interface ResolvedOptions {
  heartbeatMs: number
  timeoutMs: number
  sessionTtlMs: number
  drainTimeoutMs: number
  maxFrameBytes: number
  rateLimit: RateLimit
  maxBufferedBytes: number
  maxSubscriptions: number
  handlerTimeoutMs: number
  authorize: AuthorizeHook | undefined
  onMessage: MessageHandler
}

export interface NodeContext {
  readonly id: string
  readonly store: Store
  readonly hub: TopicHub
  readonly secret: string
  readonly options: ResolvedOptions
  log(line: string): void
  /** `conn` now serves `session`; an older connection of the same session on this node is closed 4409. */
  own(conn: Connection, session: string): void
  /** `conn` is gone. */
  forget(conn: Connection): void
}
