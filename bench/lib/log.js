/**
 * Progress goes to stderr so stdout carries only the table (it can be piped or diffed).
 * @param {string} row
 * @param {...unknown} parts
 */
export function progress(row, ...parts) {
  const t = new Date().toISOString().slice(11, 23)
  process.stderr.write(`[${t}] ${row}: ${parts.join(' ')}\n`)
}
