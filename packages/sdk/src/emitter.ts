/** A typed event map. A listener that throws is reported and skipped; it never breaks the client or others. */
export class Emitter<M> {
  readonly #sets = new Map<keyof M, Set<(payload: never) => void>>()

  on<K extends keyof M>(event: K, fn: (payload: M[K]) => void): () => void {
    let set = this.#sets.get(event)
    if (!set) this.#sets.set(event, (set = new Set()))
    set.add(fn)
    return () => void set.delete(fn)
  }

  emit<K extends keyof M>(event: K, payload: M[K]): void {
    for (const fn of [...(this.#sets.get(event) ?? [])]) {
      try {
        ;(fn as (p: M[K]) => void)(payload)
      } catch (e) {
        report(e)
      }
    }
  }
}

/** Like a DOM event listener's exception: shown to the developer, not thrown at the code that emitted. */
export function report(e: unknown): void {
  const g = globalThis as { reportError?: (e: unknown) => void }
  if (typeof g.reportError === 'function') g.reportError(e)
  else console.error('lifeline: an event listener threw', e)
}
