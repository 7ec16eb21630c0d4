/**
 * Questions for the server, answered once: a `query` frame, then a `result` or an `error` with its id
 * (protocol Query). The pending-queries map of the session core, pure like the rest of it: `ask(kind, fields,
 * ticket)` takes the caller's ticket (the client's `ask(kind, fields)` makes it and returns the promise), and
 * the answer comes back as a `settle` effect carrying the value.
 *
 * Ids count per connection from 1 (the protocol's rule). A question still unanswered when its connection ends
 * is asked again after the next welcome, with a new id: every kind is a read, safe to ask twice, and a caller
 * should not have to retry because a node died under it.
 */
import type { ErrorCode } from '@lifeline/protocol'
import type { Sink } from './effects.js'
import { aborted, CLOSED, LifelineError } from './errors.js'

interface Question {
  ticket: unknown
  frame: object
  /** Its id on the current connection; 0 until written there. */
  id: number
  /** A kind's own check and shape of the answer's value: the value, or the error to reject with. */
  shape?: ((value: unknown) => unknown) | undefined
}

export class Queries<T> {
  #pending: Question[] = []
  #lastId = 0

  readonly #sink: Sink<T>

  constructor(sink: Sink<T>) {
    this.#sink = sink
  }

  /** Written at once while open, else after the next welcome. `closed`: the code to refuse with when the client is closed. */
  ask(kind: string, fields: object, ticket: unknown, open: boolean, closed?: ErrorCode, shape?: (value: unknown) => unknown): void {
    if (closed) return this.#settle(ticket, new LifelineError(closed, CLOSED))
    const q: Question = { ticket, frame: { ...fields, t: 'query', kind }, id: 0, shape }
    this.#pending.push(q)
    if (open) this.#write(q)
  }

  /** A new connection is open: ids start again at 1, and every unanswered question is asked on it. */
  welcome(): void {
    this.#lastId = 0
    for (const q of this.#pending) this.#write(q)
  }

  /** A `result` (value) or an `error` with this id: settle its question. An id nobody asked is ignored. */
  answer(id: number, value: unknown, error?: LifelineError): void {
    const q = this.#take((x) => x.id === id && id > 0)
    if (q) this.#settle(q.ticket, error ?? (q.shape ? q.shape(value) : value))
  }

  /** The caller gave up (its signal aborted): ABORTED now; a late answer is ignored. */
  abort(ticket: unknown): void {
    if (this.#take((x) => x.ticket === ticket)) this.#settle(ticket, aborted())
  }

  /** The client stops: every question is refused with `error`. */
  shutDown(error: LifelineError): void {
    for (const q of this.#pending.splice(0)) this.#settle(q.ticket, error)
  }

  #take(match: (q: Question) => boolean): Question | undefined {
    const i = this.#pending.findIndex(match)
    return i < 0 ? undefined : this.#pending.splice(i, 1)[0]
  }

  /** Resolve with `result`, or reject when it is a LifelineError. */
  #settle(ticket: unknown, result: unknown): void {
    this.#sink.effect(result instanceof LifelineError ? { type: 'settle', ticket, error: result } : { type: 'settle', ticket, value: result })
  }

  #write(q: Question): void {
    q.id = ++this.#lastId
    this.#sink.write({ ...q.frame, id: q.id })
  }
}
