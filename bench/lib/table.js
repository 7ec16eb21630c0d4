/** The bench table as fixed-width text (stdout) and as Markdown (latest.md, BENCHMARKS.md). */
const HEAD = ['row', 'measure', 'Lifeline', 'baseline', 'ratio', 'target', 'holds']

function cells(line) {
  return [
    line.row,
    line.measure,
    line.lifeline,
    line.baseline,
    line.ratio === null || line.ratio === undefined ? '—' : `${line.ratio.toFixed(2)}×`,
    line.target,
    line.holds === true ? 'yes' : line.holds === false ? 'NO' : 'n/a',
  ]
}

export function textTable(lines) {
  const rows = [HEAD, ...lines.map(cells)]
  const width = HEAD.map((_, c) => Math.max(...rows.map((r) => r[c].length)))
  const fmt = (r) => r.map((cell, c) => cell.padEnd(width[c])).join('  ').trimEnd()
  return [fmt(rows[0]), width.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(fmt)].join('\n')
}

export function markdownTable(lines) {
  const esc = (s) => s.replace(/\|/g, '\\|')
  const fmt = (r) => `| ${r.map(esc).join(' | ')} |`
  return [fmt(HEAD), fmt(HEAD.map(() => '---')), ...lines.map((l) => fmt(cells(l)))].join('\n')
}
