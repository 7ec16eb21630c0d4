import { ErrorCode, type ErrorFrame } from '@lifeline/protocol'

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
  declare readonly code: ErrorCode
  /** The topic the error concerns, when one does (INVALID_DATA, RESERVED_TOPIC, a refused subscribe). */
  declare readonly topic?: string
  /** The close code that caused it (CONNECTION_REFUSED, CONNECT_FAILED). */
  declare readonly closeCode?: number
  /** CONNECT_FAILED: the URL of the failed attempt. */
  declare readonly url?: string
  /** CONNECT_FAILED: what the platform said (browsers say nothing more than "closed", Node says why). */
  declare readonly cause?: string
  /** CONNECT_FAILED: the HTTP status of a refused upgrade, when the platform tells it (Node's `ws` does, browsers do not). */
  declare readonly status?: number
  /** CONNECT_FAILED: milliseconds until the next attempt. */
  declare readonly retryInMs?: number
  /** A send restored from `persist` that was refused for good (nobody awaited it, so it comes as an event). */
  declare readonly refused?: { topic?: string; data: unknown }

  constructor(code: ErrorCode, message: string, extra?: ErrorDetails) {
    super(message)
    // The fields are `declare`d and set here, so the bundle carries no field definitions for them.
    Object.assign(this, extra, { code })
  }
}

/** A call whose `signal` aborted before it took effect (ABORTED). */
export const aborted = (): LifelineError => new LifelineError(ErrorCode.ABORTED, 'aborted by its signal before it took effect')


/** The message of CLIENT_CLOSED (close() was called: calls pending then and made since) and of calls made after the server refused the client (CONNECTION_REFUSED). */
export const CLOSED = 'the client is closed'

/** An app's call refused before anything was sent: `subscribe("topic"): why`. */
export const refusal = (code: ErrorCode, call: string, topic: string, why: string): LifelineError =>
  new LifelineError(code, `${call}(${JSON.stringify(topic)}): ${why}`, { topic })

/** A server's `error` frame as the app gets it: its code and message unchanged. */
export const serverError = (f: ErrorFrame): LifelineError => new LifelineError(f.code as ErrorCode, f.message, { topic: f.topic })
