/**
 * Browser bundle size, min + gzip, every runtime dependency included: esbuild bundles an entry that
 * re-exports a package (ESM, browser platform, minified, tree-shaken as an app's bundler would), then gzip -9.
 */
import { build } from 'esbuild'
import { gzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

/**
 * `contents` is the entry module's source, e.g. `export * from '@lifeline/sdk'`.
 * @param {string} contents
 */
export async function bundleSize(contents) {
  const out = await build({
    stdin: { contents, resolveDir: root, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  }).catch((e) => {
    throw new Error(e.errors?.[0]?.text ?? String(e)) // esbuild's own message is "Build failed with 1 error:"
  })
  const code = out.outputFiles[0]?.contents
  if (!code) throw new Error('esbuild wrote no output file')
  return { minBytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length }
}
