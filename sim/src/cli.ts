/**
 * `npm run sim`: the deterministic simulation of the whole system (see README "Simulation").
 *
 *   npm run sim                          the default sweep: DEFAULT_SEEDS seeds from 1
 *   npm run sim -- --seeds N [--from S]  N seeds from S
 *   npm run sim -- --seed S [--faults 0,2]   one seed (optionally some of its faults), with its trace
 *   npm run sim -- --minutes M           soak: consecutive seeds for M minutes
 *   npm run sim -- --mutant NAME         the same, with a known bug switched back on (must fail)
 *   npm run sim -- --list-mutants
 *
 * Exit code 1 when a scenario violates an invariant: it prints the seed, the shortest trace found by
 * shrinking its faults, and the command that replays it.
 */
import { FAULT_KINDS } from './faults.js'
import { MUTANTS } from './mutants.js'
import { DEFAULT_SEEDS, mutantNamed, replayCommand, runSeed, shrink, type Outcome } from './run.js'

interface Args {
  seeds: number
  from: number
  seed: number | undefined
  faults: number[] | undefined
  minutes: number | undefined
  mutant: string | undefined
  listMutants: boolean
  quiet: boolean
}

function parse(argv: string[]): Args {
  const a: Args = { seeds: DEFAULT_SEEDS, from: 1, seed: undefined, faults: undefined, minutes: undefined, mutant: undefined, listMutants: false, quiet: false }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${flag} needs a value`)
      return v
    }
    const int = (): number => {
      const v = value()
      const n = Number(v)
      if (!Number.isInteger(n) || n < 0) throw new Error(`${flag}: expected a whole number, got ${JSON.stringify(v)}`)
      return n
    }
    if (flag === '--seeds') a.seeds = int()
    else if (flag === '--from') a.from = int()
    else if (flag === '--seed') a.seed = int()
    else if (flag === '--faults') a.faults = value() === 'none' ? [] : argv[i]!.split(',').map(Number)
    else if (flag === '--minutes') a.minutes = Number(value())
    else if (flag === '--mutant') a.mutant = value()
    else if (flag === '--list-mutants') a.listMutants = true
    else if (flag === '--quiet') a.quiet = true
    else throw new Error(`unknown flag ${flag}; see the top of sim/src/cli.ts`)
  }
  return a
}

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2))
  if (args.listMutants) {
    for (const m of MUTANTS) console.log(`${m.name.padEnd(22)} ${m.what}`)
    return 0
  }
  const mutant = mutantNamed(args.mutant)
  if (args.seed !== undefined) {
    const o = await runSeed(args.seed, { ...(args.faults ? { kept: args.faults } : {}), ...(mutant ? { mutant } : {}) })
    console.log(o.trace.join('\n'))
    console.log(`\nseed ${o.seed}: faults ${o.faults.map((f) => `${f.kind}@${f.at}`).join(', ') || 'none'}; trace ${o.digest}; ${o.messages} messages`)
    for (const v of o.verdict.violations) console.log(`  ${v}`)
    return report([o], o.verdict.violations.length ? [o] : [], 0)
  }
  const started = Date.now()
  const deadline = args.minutes === undefined ? Infinity : started + args.minutes * 60_000
  const outcomes: Outcome[] = []
  const failing: Outcome[] = []
  for (let seed = args.from; args.minutes !== undefined ? Date.now() < deadline : seed < args.from + args.seeds; seed++) {
    const o = await runSeed(seed, mutant ? { mutant } : {})
    outcomes.push(o)
    if (o.verdict.violations.length > 0) {
      failing.push(o)
      if (mutant) break // a mutant is caught at its first violation
    }
  }
  const ms = Date.now() - started
  const code = report(outcomes, failing, ms)
  if (failing.length > 0) {
    const small = await shrink(failing[0]!, mutant)
    console.log(`\nfirst failing seed ${small.seed}, shrunk to ${small.faults.length} fault(s): ${small.faults.map((f) => `${f.kind}@${f.at}`).join(', ') || 'none'}`)
    console.log(small.verdict.violations.map((v) => `  ${v}`).join('\n'))
    if (!args.quiet) console.log(`trace:\n${small.trace.join('\n')}`)
    console.log(`replay: ${replayCommand(small, mutant)}`)
  }
  return code
}

function report(outcomes: Outcome[], failing: Outcome[], ms: number): number {
  const faults = new Map<string, number>()
  for (const o of outcomes) for (const [k, n] of o.faultCounts) faults.set(k, (faults.get(k) ?? 0) + n)
  const messages = outcomes.reduce((n, o) => n + o.messages, 0)
  const perKind = FAULT_KINDS.map((k) => `${k} ${faults.get(k) ?? 0}`).join(', ')
  console.log(`scenarios ${outcomes.length}${ms ? ` in ${(ms / 1000).toFixed(1)} s (${(outcomes.length / (ms / 1000)).toFixed(1)}/s)` : ''}`)
  console.log(`faults injected: ${perKind}`)
  console.log(`messages checked: ${messages} deliveries`)
  console.log(`violations: ${failing.length}`)
  for (const o of failing.slice(0, 5)) console.log(`  seed ${o.seed}: ${o.verdict.violations[0]}`)
  return failing.length > 0 ? 1 : 0
}

// exitCode, not exit(): a long trace written to a pipe must be flushed before the process ends.
main().then(
  (code) => void (process.exitCode = code),
  (e: unknown) => {
    console.error(`sim: ${(e as Error).message}`)
    process.exitCode = 2
  },
)
