#!/usr/bin/env node
/**
 * Browser bundle size of the SDK: dist/index.js bundled with esbuild (platform browser, minified, every runtime
 * dependency included: @lifeline/protocol's codes and depth check), then gzip level 9. Also partysocket/ws
 * alone (the reconnecting wrapper most apps use today; the bench's baseline), for reference. Run after
 * `npm run build` (the root `npm run size` does both).
 *
 *   node packages/sdk/scripts/size.js          a table
 *   node packages/sdk/scripts/size.js --json   {"gzipBytes":…,"minBytes":…,"sdk":{…},"partysocket":{…},"targetBytes":10240,"withinTarget":true}
 *   node packages/sdk/scripts/size.js --check  exit 1 when the SDK is over the target
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { measureBundle } from './bundle.js'

/**
 * The SDK's bundle target: at most 10 KB min+gzip with everything an app can import (Socket.IO's client is 14.7 KB).
 * React bindings are to ship in their own package for that reason.
 */
const TARGET_BYTES = 10 * 1024
const root = join(dirname(fileURLToPath(import.meta.url)), '..')

async function measure(name, stdin) {
  const { minBytes, gzipBytes, paths } = await measureBundle(stdin, root)
  return { name, minBytes, gzipBytes, modules: paths.length, paths }
}

const entry = join(root, 'dist', 'index.js')
if (!existsSync(entry)) {
  console.error('size: packages/sdk/dist/index.js is missing; run `npm run build` first')
  process.exit(2)
}
// `export *` keeps the whole public API in the bundle: the figure is for an app that uses all of it.
const sdk = await measure('@lifeline/sdk', `export * from ${JSON.stringify(entry)}`)
const partysocket = await measure('partysocket/ws', `export { default } from 'partysocket/ws'`)
// Top-level gzipBytes/minBytes are the SDK's (what bench/rows/bundle.js reads); the rest is the detail.
const report = { gzipBytes: sdk.gzipBytes, minBytes: sdk.minBytes, sdk, partysocket, targetBytes: TARGET_BYTES, withinTarget: sdk.gzipBytes <= TARGET_BYTES }

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(report))
} else {
  const kb = (n) => `${(n / 1024).toFixed(2)} KB`
  console.log('bundle (esbuild, platform browser, minified)    min          min+gzip')
  for (const r of [sdk, partysocket]) console.log(`${r.name.padEnd(47)} ${kb(r.minBytes).padEnd(12)} ${kb(r.gzipBytes)} (${r.gzipBytes} B)`)
  console.log(`target: SDK ≤ ${kb(TARGET_BYTES)} min+gzip → ${report.withinTarget ? 'within target' : 'OVER TARGET'}`)
}
if (process.argv.includes('--check') && !report.withinTarget) process.exit(1)
