/**
 * The vocabulary between the pure core and the client: inputs the core accepts, effects it asks for, and the
 * sink both halves of the core (core.ts: connection, session.ts: data) append effects to, in order.
 */
import { ErrorCode } from '@lifeline/protocol'
import { LifelineError } from './errors.js'
import { sent, type Entry } from './outbox.js'
import type { ClientEvents } from './types.js'

/** Codes under which a ticketless entry is not dropped unannounced: listed in a `reset`, or kept in storage. */
const NOT_DROPPED = new Set<string>([ErrorCode.SESSION_RESET, ErrorCode.SESSION_TAKEN, ErrorCode.CLIENT_CLOSED, ErrorCode.CONNECTION_REFUSED])

/** 'token': refresh the token before its exp (auth.ts). */
export type TimerName = 'retry' | 'silence' | 'token'

export type Input =
  | { type: 'start' }
  | { type: 'socket-open' }
  | { type: 'socket-frame'; text: unknown }
  | { type: 'socket-close'; code: number; reason: string }
  | { type: 'timer'; name: TimerName }
  /** client.publish() and client.send(). `ticket` comes back in the `settle` effect. */
  | { type: 'publish'; topic: string; data: unknown; ticket: unknown }
  | { type: 'send'; data: unknown; ticket: unknown }
  /** `from`/`epoch`: where a new subscription starts (SubscribeOptions), checked by the session. */
  | { type: 'subscribe'; topic: string; from?: unknown; epoch?: unknown; presence?: boolean }
  /** What the `token` option gave (or why it failed), asked for by a `fetch-token` effect. */
  | { type: 'token'; token?: string; error?: string }
  | { type: 'unsubscribe'; topic: string }
  /** client.history(): a `history` query, checked, asked and its answer checked by the core. */
  | { type: 'history'; topic: string; from?: unknown; limit?: unknown; ticket: unknown }
  /** A question of another kind (queries.ts): `fields` are the kind's own, sent as they are. */
  | { type: 'query'; kind: string; fields: object; ticket: unknown }
  /** The call behind `ticket` was aborted (its `signal`): withdrawn if it has not taken effect yet. */
  | { type: 'abort'; ticket: unknown }
  /** 'app': client.reconnect(); 'online': the browser's online event. */
  | { type: 'reconnect'; why: 'app' | 'online' }
  | { type: 'close' }

type Emit<T> = { [K in keyof ClientEvents<T>]: { type: 'emit'; event: K; payload: ClientEvents<T>[K] } }[keyof ClientEvents<T>]

export type Effect<T = unknown> =
  | { type: 'connect'; url: string }
  /** Get the user's token (the `token` option) and answer with a `token` input. */
  | { type: 'fetch-token' }
  | { type: 'disconnect'; code: number; reason: string }
  | { type: 'write'; text: string }
  /** Arm (ms) or cancel (null) the named timer; arming replaces the previous one. */
  | { type: 'timer'; name: TimerName; ms: number | null }
  | Emit<T>
  /** Settle the promise behind `ticket`: resolve (with `value`, for a query), or reject with `error`. */
  | { type: 'settle'; ticket: unknown; error?: LifelineError; value?: unknown }
  /** Settle every pending subscribe(topic). */
  | { type: 'subscribed'; topic: string; error?: LifelineError }
  /** Save this part of the session to storage; ordered before any later `write` (a reload never loses a seq). */
  | { type: 'persist'; part: 'session' | 'outbox' }

export class Sink<T> {
  out: Effect<T>[] = []

  effect(e: Effect<T>): void {
    this.out.push(e)
  }
  emit<K extends keyof ClientEvents<T>>(event: K, payload: ClientEvents<T>[K]): void {
    this.out.push({ type: 'emit', event, payload } as Emit<T>)
  }
  write(frame: object): void {
    this.out.push({ type: 'write', text: JSON.stringify(frame) })
  }
  timer(name: TimerName, ms: number | null): void {
    this.out.push({ type: 'timer', name, ms })
  }
  /** Settle every pending subscribe(topic): confirmed, or refused with `error`. */
  subscribed(topic: string, error?: LifelineError): void {
    this.out.push({ type: 'subscribed', topic, error })
  }
  persist(part: 'session' | 'outbox'): void {
    this.out.push({ type: 'persist', part })
  }
  /**
   * Settle the entry's promise. Entries restored from storage have no ticket: nobody awaits them, so a refusal
   * for good (MESSAGE_TOO_BIG, HANDLER_FAILED, OUTBOX_DROPPED …) is an `error` event carrying the send itself,
   * or the app would never hear that it was dropped. (A reset lists them in its event; a close keeps them stored.)
   */
  settle(e: Entry, error?: LifelineError): void {
    if (e.ticket !== undefined) return void this.out.push({ type: 'settle', ticket: e.ticket, error })
    if (!error || NOT_DROPPED.has(error.code)) return
    const refused = sent(e)
    this.emit('error', new LifelineError(error.code, `${error.message} (a send restored from storage)`, { topic: refused.topic, refused }))
  }
  settleAll(done: Entry[]): void {
    for (const e of done) this.settle(e)
    if (done.length) this.persist('outbox')
  }
}
