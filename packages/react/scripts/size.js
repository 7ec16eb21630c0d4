#!/usr/bin/env node
/**
 * The bindings' own browser bundle size: dist/index.js bundled with esbuild (platform browser, minified), with
 * `react` and `@lifeline/sdk` left out (an app has them anyway; the SDK's own size is packages/sdk/scripts/size.js),
 * then gzip level 9. Run after `npm run build` (the root `npm run size` does both, after the SDK's table).
 *
 *   node packages/react/scripts/size.js          one line
 *   node packages/react/scripts/size.js --json   {"gzipBytes":…,"minBytes":…,"external":[…],"paths":[…]}
 */
import { build } from 'esbuild'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const entry = join(root, 'dist', 'index.js')
if (!existsSync(entry)) {
  console.error('size: packages/react/dist/index.js is missing; run `npm run build` first')
  process.exit(2)
}
const external = ['react', 'react-dom', '@lifeline/sdk']
const result = await build({
  stdin: { contents: `export * from ${JSON.stringify(entry)}`, resolveDir: root, loader: 'js' },
  bundle: true,
  minify: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  external,
  write: false,
  metafile: true,
  logLevel: 'silent',
})
const code = result.outputFiles[0].contents
const used = Object.entries(result.metafile.outputs)[0][1].inputs
const paths = Object.keys(used).filter((p) => p !== '<stdin>' && used[p].bytesInOutput > 0)
const report = { gzipBytes: gzipSync(code, { level: 9 }).length, minBytes: code.length, external, paths }

if (process.argv.includes('--json')) console.log(JSON.stringify(report))
else {
  const kb = (n) => `${(n / 1024).toFixed(2)} KB`
  console.log(`${'@lifeline/react (react, @lifeline/sdk external)'.padEnd(47)} ${kb(report.minBytes).padEnd(12)} ${kb(report.gzipBytes)} (${report.gzipBytes} B)`)
}
