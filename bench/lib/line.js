/**
 * One line of the bench table: `{row, measure, lifeline, baseline, ratio, target, holds, note?}`. `lifeline` and
 * `baseline` are display strings (a figure may be several numbers); `ratio` is Lifeline ÷ baseline of the
 * figure the target is about, or null; `holds` is true/false, or null when the Lifeline side was not measured.
 */

/** Run `fn`; on a throw, return `{error}` instead, so one side failing still lets the other be reported. */
export async function attempt(fn) {
  try {
    return await fn()
  } catch (e) {
    return { error: String(e?.message ?? e).split('\n')[0] }
  }
}

/** Display text for a side that could not be measured. */
export function failed(result) {
  const why = result?.error ?? 'unknown error'
  const missing = /Cannot find (?:module|package) '[^']*@lifeline\/(sdk|devserver)/.exec(why)
  if (missing) return `not measured: @lifeline/${missing[1]} is not built`
  return `not measured: ${why.slice(0, 160)}`
}

/** 12345 → "12,345". */
export function count(n) {
  return n === null || n === undefined ? '—' : Math.round(n).toLocaleString('en-US')
}
