/**
 * `node bench/update-doc.js`: copies the last run's table and machine (bench/results/latest.json) into
 * BENCHMARKS.md between its `<!-- bench:table -->` and `<!-- bench:machine -->` markers. Refuses a --quick run:
 * BENCHMARKS.md quotes full runs only.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { markdownTable } from './lib/table.js'

const doc = new URL('../BENCHMARKS.md', import.meta.url)
/** @type {{ mode: string, when: string, totalSeconds: number, maxLoad?: number, machine: ReturnType<typeof import('./lib/machine.js').machine>, lines: import('./lib/line.js').Line[] }} */
const r = JSON.parse(readFileSync(new URL('./results/latest.json', import.meta.url), 'utf8'))
if (r.mode !== 'full') {
  console.error(`latest.json is a ${r.mode} run; run \`npm run bench\` (full) first`)
  process.exit(1)
}
const m = r.machine
const notes = r.lines.filter((l) => l.note).map((l) => `\n- ${l.row}: ${l.note}`).join('')
const load =
  (r.maxLoad ?? 0) > 2 * m.nproc
    ? `\n- load average reached ${r.maxLoad} on ${m.nproc} cores during the run: other work shared the machine and skews the figures`
    : ''
const table = `${markdownTable(r.lines)}\n${notes || load ? `${notes}${load}\n` : ''}\nFull run of ${r.when}, ${r.totalSeconds} s.`
const machine = [
  `- nproc: ${m.nproc}`,
  `- CPU (/proc/cpuinfo model name): ${m.cpu}`,
  `- memory: ${m.memoryGiB} GiB`,
  `- node: ${m.node}`,
  `- OS: ${m.os}`,
  `- ulimit -n: ${m.nofile}`,
  `- redis-server: ${m.redis}`,
  `- highest 1-minute load average seen at a row's start or end: ${r.maxLoad ?? 'not recorded'}`,
].join('\n')
/**
 * @param {string} text
 * @param {string} name
 * @param {string} body
 */
const replace = (text, name, body) =>
  text.replace(new RegExp(`(<!-- bench:${name} -->\\n)[\\s\\S]*?(\\n<!-- /bench:${name} -->)`), `$1${body}$2`)
writeFileSync(doc, replace(replace(readFileSync(doc, 'utf8'), 'table', table), 'machine', machine))
console.log('BENCHMARKS.md updated from bench/results/latest.json')
