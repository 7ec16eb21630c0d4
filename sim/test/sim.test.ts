/**
 * The simulation's own guarantees: a seed replays the same history (trace) every time, a short unmutated sweep
 * finds nothing, and every mutant (a known bug switched back on) is caught within the default seeds. The full
 * default sweep runs in `npm test` as its own step (`npm run sim`), on its own, so it slows no timed test.
 */
import { describe, expect, it } from 'vitest'
import { MUTANTS } from '../src/mutants.js'
import { DEFAULT_SEEDS, runSeed, shrink } from '../src/run.js'

describe('simulation', () => {
  it('replays a seed exactly: the same trace twice', async () => {
    for (const seed of [7, 42]) {
      const [a, b] = [await runSeed(seed), await runSeed(seed)]
      expect(a.trace.length).toBeGreaterThan(5)
      expect(b.digest).toBe(a.digest)
    }
  })

  it('finds no violation in the first 40 seeds of the real code', async () => {
    const failing: string[] = []
    let messages = 0
    for (let seed = 1; seed <= 40; seed++) {
      const o = await runSeed(seed)
      messages += o.messages
      if (o.verdict.violations.length) failing.push(`seed ${seed}: ${o.verdict.violations.join('; ')}`)
    }
    console.log(`[sim] 40 seeds, ${messages} deliveries checked, ${failing.length} violations`)
    expect(failing).toEqual([])
  })

  for (const mutant of MUTANTS) {
    it(`catches the mutant ${mutant.name} within the default seeds, and its shrunk seed still fails`, async () => {
      let caught: Awaited<ReturnType<typeof runSeed>> | undefined
      for (let seed = 1; seed <= DEFAULT_SEEDS && !caught; seed++) {
        const o = await runSeed(seed, { mutant })
        if (o.verdict.violations.length) caught = o
      }
      expect(caught, `${mutant.name} was not caught in ${DEFAULT_SEEDS} seeds`).toBeDefined()
      const small = await shrink(caught!, mutant)
      console.log(`[sim] mutant ${mutant.name}: seed ${caught!.seed}, shrunk to ${small.faults.map((f) => f.kind).join(', ') || 'no fault'}: ${small.verdict.violations[0]}`)
      expect(small.verdict.violations.length).toBeGreaterThan(0)
      // And without the mutant, the same scenario passes: the violation is the bug's, not the scenario's.
      expect((await runSeed(small.seed, { kept: small.kept })).verdict.violations).toEqual([])
    }, 120_000)
  }
})
