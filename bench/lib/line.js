/**
 * One line of the bench table: `{row, measure, lifeline, baseline, socketio?, ratio, target, holds, note?}`.
 * `lifeline`, `baseline` and `socketio` (the second baseline, Socket.IO, in the rows that run it; shown as "—"
 * where absent) are display strings (a figure may be several numbers); `ratio` is Lifeline ÷ baseline of the
 * figure the target is about, or null; `holds` is true/false, or null when the Lifeline side was not measured.
 */

/**
 * @typedef {object} Line
 * @property {string} row
 * @property {string} measure
 * @property {string} lifeline
 * @property {string} baseline
 * @property {string} [socketio]
 * @property {number | null} ratio
 * @property {string} target
 * @property {boolean | null} holds
 * @property {string} [note]
 */

/**
 * What `attempt` gives when `fn` threw: the error, and none of a result's fields (so reading one is allowed,
 * and says `undefined`, as it does at run time).
 * @template T
 * @typedef {{ error: string } & { [K in Exclude<keyof T, 'error'>]?: undefined }} Failure
 */

/**
 * Run `fn`; on a throw, return `{error}` instead, so one side failing still lets the other be reported.
 * Tell the two apart with `x.error === undefined`.
 * @template T
 * @param {() => Promise<T> | T} fn
 * @returns {Promise<(T & { error?: undefined }) | Failure<T>>}
 */
export async function attempt(fn) {
  try {
    return /** @type {T & { error?: undefined }} */ (await fn())
  } catch (e) {
    return /** @type {Failure<T>} */ ({ error: String(/** @type {Error | null} */ (e)?.message ?? e).split('\n')[0] ?? '' })
  }
}

/**
 * Display text for a side that could not be measured.
 * @param {{ error?: string } | null | undefined} result
 */
export function failed(result) {
  const why = result?.error ?? 'unknown error'
  const missing = /Cannot find (?:module|package) '[^']*@lifeline\/(sdk|devserver)/.exec(why)
  if (missing) return `not measured: @lifeline/${missing[1]} is not built`
  return `not measured: ${why.slice(0, 160)}`
}

/**
 * 12345 → "12,345".
 * @param {number | null | undefined} n
 */
export function count(n) {
  return n === null || n === undefined ? '—' : Math.round(n).toLocaleString('en-US')
}
