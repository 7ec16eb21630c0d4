/**
 * Running scenarios: one seed (optionally with only some of its faults), a sweep of seeds, and shrinking a
 * failing one to the fewest faults that still fail, so its trace is short enough to read.
 */
import { createHash } from 'node:crypto'
import { check, type Verdict } from './check.js'
import { faultsOf, type Fault } from './faults.js'
import { MUTANTS, type Mutant } from './mutants.js'
import { World } from './world.js'

/**
 * Seeds of the default sweep: about 50 s on this 2-core machine (about 60 scenarios a second), inside the 90 s
 * the sweep may take; every mutant is caught well within them.
 */
export const DEFAULT_SEEDS = 3_000

export interface Outcome {
  seed: number
  faults: Fault[]
  /** Indexes into the seed's own fault schedule that were kept (all, unless shrunk). */
  kept: number[]
  verdict: Verdict
  trace: string[]
  /** sha256 of the trace: two runs of one seed must agree on it. */
  digest: string
  faultCounts: Map<string, number>
  messages: number
}

export function mutantNamed(name: string | undefined): Mutant | undefined {
  if (name === undefined) return undefined
  const m = MUTANTS.find((x) => x.name === name)
  if (!m) throw new Error(`no mutant "${name}"; --list-mutants lists them`)
  return m
}

/** One scenario: the seed's workload with `kept` of its faults (default all). */
export async function runSeed(seed: number, options: { kept?: number[]; mutant?: Mutant } = {}): Promise<Outcome> {
  const all = faultsOf(seed)
  const kept = options.kept ?? all.map((_, i) => i)
  const faults = kept.map((i) => all[i]!).filter(Boolean)
  const world = new World(seed, faults)
  const undo = options.mutant?.apply(world.store)
  try {
    await world.run()
  } finally {
    undo?.()
  }
  const verdict = check(world)
  const digest = createHash('sha256').update(world.trace.join('\n')).digest('hex').slice(0, 16)
  return { seed, faults, kept, verdict, trace: world.trace, digest, faultCounts: world.seen.faults, messages: world.seen.messages }
}

/** Fewer faults, same violation: drops one fault at a time while the seed still fails. */
export async function shrink(failing: Outcome, mutant?: Mutant): Promise<Outcome> {
  let best = failing
  for (let changed = true; changed; ) {
    changed = false
    for (const i of best.kept) {
      const kept = best.kept.filter((k) => k !== i)
      const o = await runSeed(best.seed, { kept, ...(mutant ? { mutant } : {}) })
      if (o.verdict.violations.length > 0) {
        best = o
        changed = true
        break
      }
    }
  }
  return best
}

/** The command that runs exactly this scenario again and prints its trace. */
export function replayCommand(o: Outcome, mutant?: Mutant): string {
  const all = faultsOf(o.seed).length
  const only = o.kept.length === all ? '' : ` --faults ${o.kept.join(',') || 'none'}`
  return `npm run sim -- --seed ${o.seed}${only}${mutant ? ` --mutant ${mutant.name}` : ''}`
}
