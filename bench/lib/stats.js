/** Small numeric helpers shared by the rows. Pure functions, no I/O. */

/**
 * Nearest-rank percentile (p in 0..100) of a list of numbers; null when the list is empty.
 * @param {readonly number[]} values
 * @param {number} p
 * @returns {number | null}
 */
export function percentile(values, p) {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null
}

/**
 * @typedef {object} Summary
 * @property {number} n
 * @property {number | null} p50
 * @property {number | null} p95
 * @property {number | null} p99
 * @property {number | null} max
 */

/**
 * p50/p95/p99/max of a list, rounded to whole units; every field null when the list is empty.
 * @param {readonly number[]} values
 * @returns {Summary}
 */
export function summary(values) {
  /** @param {number | null} v */
  const r = (v) => (v === null ? null : Math.round(v))
  return {
    n: values.length,
    p50: r(percentile(values, 50)),
    p95: r(percentile(values, 95)),
    p99: r(percentile(values, 99)),
    max: r(values.length ? Math.max(...values) : null),
  }
}

/**
 * a / b, or null when either is missing or b is 0 (a ratio that cannot be formed is shown as "—").
 * @param {number | null | undefined} a
 * @param {number | null | undefined} b
 */
export function ratio(a, b) {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null
  return a / b
}

/** @param {readonly number[]} values */
export function sum(values) {
  return values.reduce((a, b) => a + b, 0)
}
