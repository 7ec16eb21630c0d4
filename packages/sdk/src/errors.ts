import { ErrorCode } from '@lifeline/protocol'

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
  /** The close code that caused it (CONNECTION_REFUSED). */
  readonly closeCode?: number

  constructor(code: ErrorCode, message: string, extra?: { topic?: string; closeCode?: number }) {
    super(message)
    this.code = code
    if (extra?.topic !== undefined) this.topic = extra.topic
    if (extra?.closeCode !== undefined) this.closeCode = extra.closeCode
  }
}

