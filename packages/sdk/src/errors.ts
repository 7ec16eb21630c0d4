import { ErrorCode } from '@lifeline/protocol'

export interface ErrorDetails {
  topic?: string
  closeCode?: number
  url?: string
  cause?: string
  status?: number
  retryInMs?: number
  refused?: { topic?: string; data: unknown }
}

/**
 * Every error the SDK hands to the app: rejected promises and `error` events alike. `code` is stable (see
 * ErrorCode in @lifeline/protocol); `message` says what was wrong and what to do. Server-sent codes
 * (RESERVED_TOPIC, HANDLER_FAILED, …) pass through unchanged.
 */
export class LifelineError extends Error {
  override readonly name = 'LifelineError'
  readonly code: ErrorCode
  /** The topic the error concerns, when one does (INVALID_DATA, RESERVED_TOPIC, a refused subscribe). */
  readonly topic?: string
  /** The close code that caused it (CONNECTION_REFUSED, CONNECT_FAILED). */
  readonly closeCode?: number
  /** CONNECT_FAILED: the URL of the failed attempt. */
  readonly url?: string
  /** CONNECT_FAILED: what the platform said (browsers say nothing more than "closed", Node says why). */
  override readonly cause?: string
  /** CONNECT_FAILED: the HTTP status of a refused upgrade, when the platform tells it (Node's `ws` does, browsers do not). */
  readonly status?: number
  /** CONNECT_FAILED: milliseconds until the next attempt. */
  readonly retryInMs?: number
  /** A send restored from `persist` that was refused for good (nobody awaited it, so it comes as an event). */
  readonly refused?: { topic?: string; data: unknown }

  constructor(code: ErrorCode, message: string, extra?: ErrorDetails) {
    super(message)
    this.code = code
    if (extra) Object.assign(this, extra)
  }
}

/** A call whose `signal` aborted before it took effect (ABORTED). */
export const aborted = (): LifelineError => new LifelineError(ErrorCode.ABORTED, 'aborted by its signal before it took effect')

