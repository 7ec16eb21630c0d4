#!/usr/bin/env node
/**
 * The bindings' own browser bundle size: dist/index.js bundled with esbuild (platform browser, minified), with
 * `react` and `@lifeline/sdk` left out (an app has them anyway; the SDK's own size is packages/sdk/scripts/size.js),
 * then gzip level 9. Run after `npm run build` (the root `npm run size` does both, after the SDK's table).
 *
 *   node packages/react/scripts/size.js          one line
 *   node packages/react/scripts/size.js --json   {"gzipBytes":…,"minBytes":…,"external":[…],"paths":[…]}
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { measureBundle } from '../../sdk/scripts/bundle.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const entry = join(root, 'dist', 'index.js')
if (!existsSync(entry)) {
  console.error('size: packages/react/dist/index.js is missing; run `npm run build` first')
  process.exit(2)
}
const external = ['react', 'react-dom', '@lifeline/sdk']
const { minBytes, gzipBytes, paths } = await measureBundle(`export * from ${JSON.stringify(entry)}`, root, external)
const report = { gzipBytes, minBytes, external, paths }

if (process.argv.includes('--json')) console.log(JSON.stringify(report))
else {
  const kb = (n) => `${(n / 1024).toFixed(2)} KB`
  console.log(`${'@lifeline/react (react, @lifeline/sdk external)'.padEnd(47)} ${kb(report.minBytes).padEnd(12)} ${kb(report.gzipBytes)} (${report.gzipBytes} B)`)
}
