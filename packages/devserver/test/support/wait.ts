/** Waiting on conditions without fixed sleeps: poll a predicate, fail with a message that says what never happened. */

/**
 * Resolves once `predicate()` is true; rejects after `timeoutMs` naming `what`. Polls every `everyMs` (default 10).
 * The predicate may be async (a probe such as "does this port accept a connection"), and may throw to stop
 * waiting at once (the process it waits on has exited): that error is the rejection.
 */
export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, everyMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

/** Resolves with the first event `name` emitted by `emitter` that `filter` accepts. */
export function nextEvent<T>(
  emitter: { on(name: string, fn: (value: T) => void): unknown; off(name: string, fn: (value: T) => void): unknown },
  name: string,
  filter: (value: T) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(name, listener)
      reject(new Error(`timed out after ${timeoutMs} ms waiting for event ${name}`))
    }, timeoutMs)
    const listener = (value: T): void => {
      if (!filter(value)) return
      clearTimeout(timer)
      emitter.off(name, listener)
      resolve(value)
    }
    emitter.on(name, listener)
  })
}
