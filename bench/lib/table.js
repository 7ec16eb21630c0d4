/** The bench table as fixed-width text (stdout) and as Markdown (latest.md, BENCHMARKS.md). */
/** @typedef {import('./line.js').Line} Line */

const HEAD = ['row', 'measure', 'Lifeline', 'baseline', 'Socket.IO', 'ratio', 'target', 'holds']

/** @param {Line} line */
function cells(line) {
  return [
    line.row,
    line.measure,
    line.lifeline,
    line.baseline,
    line.socketio ?? '—',
    line.ratio === null || line.ratio === undefined ? '—' : `${line.ratio.toFixed(2)}×`,
    line.target,
    line.holds === true ? 'yes' : line.holds === false ? 'NO' : 'n/a',
  ]
}

/** @param {readonly Line[]} lines */
export function textTable(lines) {
  const rows = lines.map(cells)
  const width = HEAD.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)))
  /** @param {string[]} r */
  const fmt = (r) => r.map((cell, c) => cell.padEnd(width[c] ?? 0)).join('  ').trimEnd()
  return [fmt(HEAD), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n')
}

/** @param {readonly Line[]} lines */
export function markdownTable(lines) {
  /** @param {string} s */
  const esc = (s) => s.replace(/\|/g, '\\|')
  /** @param {string[]} r */
  const fmt = (r) => `| ${r.map(esc).join(' | ')} |`
  return [fmt(HEAD), fmt(HEAD.map(() => '---')), ...lines.map((l) => fmt(cells(l)))].join('\n')
}
