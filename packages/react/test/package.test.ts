/**
 * @lifeline/react as it ships (needs `npm run build`): the tarball's files, the exports map, the peer range,
 * its own bundle size (what `npm run size` prints), and nothing of React in @lifeline/sdk's bundle.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const json = (script: string) => JSON.parse(execFileSync(process.execPath, [`${ROOT}${script}`, '--json'], { encoding: 'utf8' })) as { gzipBytes: number; minBytes: number; paths: string[]; sdk?: { paths: string[] } }

describe('@lifeline/react, packaged', () => {
  it('the tarball carries README, LICENSE, dist (ESM + .d.ts) and no build state; exports have types + default; React 18 and 19 as peers', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json', '-w', 'packages/react'], { cwd: ROOT, encoding: 'utf8' })
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path)
    for (const f of ['README.md', 'LICENSE', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/hooks.js', 'dist/provider.js']) expect(files).toContain(f)
    expect(files.filter((f) => f.includes('tsbuildinfo'))).toEqual([])
    const pkg = JSON.parse(readFileSync(`${ROOT}packages/react/package.json`, 'utf8')) as Record<string, unknown>
    expect(pkg.exports).toEqual({ '.': { types: './dist/index.d.ts', default: './dist/index.js' } })
    expect(pkg.peerDependencies).toEqual({ react: '^18.0.0 || ^19.0.0' })
    expect(pkg.type).toBe('module')
  })

  it('its own bundle (react and the SDK left out) is small, and the SDK bundle holds nothing of React', () => {
    const own = json('packages/react/scripts/size.js')
    const sdk = json('packages/sdk/scripts/size.js')
    console.log(`bundle size: @lifeline/react ${own.gzipBytes} B min+gzip (${own.minBytes} B min), @lifeline/sdk ${sdk.gzipBytes} B`)
    expect(own.paths.every((p) => p.startsWith('packages/react/dist/'))).toBe(true)
    expect(own.gzipBytes).toBeLessThan(3 * 1024)
    expect(sdk.sdk!.paths.filter((p) => /react/.test(p))).toEqual([])
  })
})
