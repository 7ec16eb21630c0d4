/**
 * Bundles the simulation (sim/src/cli.ts, with the real SDK and server cores it imports from the packages' src folders)
 * into sim/dist/sim.mjs with esbuild: its own copy of that code, which mutants may patch. `npm run sim` runs it.
 */
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))
await build({
  entryPoints: [`${here}src/cli.ts`],
  outfile: `${here}dist/sim.mjs`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Dependencies stay packages (zod for the protocol's decoder); the code under test is bundled.
  packages: 'external',
  logLevel: 'warning',
  sourcemap: 'inline',
})
