import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'sim/test/**/*.test.ts'],
    // Fault tests start real processes; each bounds its own waits, this is the last resort.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real clusters per file: two at once on a 2-core machine is the most that stays honest about timing.
    maxWorkers: 2,
  },
})
