/**
 * One browser bundle measured as an app's bundler would make it: esbuild (platform browser, ESM, es2022,
 * minified, tree-shaken) of an entry module's source, then gzip level 9. Shared by this package's size.js and
 * the React bindings' (packages/react/scripts/size.js). platform 'browser' also proves the bundle imports no
 * Node built-in: esbuild refuses to resolve one.
 */
import { build } from 'esbuild'
import { gzipSync } from 'node:zlib'

/**
 * `stdin`: the entry's source (e.g. `export * from '…/dist/index.js'`), resolved from `resolveDir`; `external`:
 * packages left out of the bundle. `paths`: the modules that contributed code (esbuild also lists ones it parsed
 * and then tree-shook away, e.g. zod).
 */
export async function measureBundle(stdin, resolveDir, external = []) {
  const result = await build({
    stdin: { contents: stdin, resolveDir, loader: 'js' },
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
  return { minBytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length, paths }
}
