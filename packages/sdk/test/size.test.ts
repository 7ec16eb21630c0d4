import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const script = fileURLToPath(new URL('../scripts/size.js', import.meta.url))

describe('bundle size (needs `npm run build`)', () => {
  it('the SDK with every runtime dependency is at most 10 KB min+gzip for browsers, without zod', () => {
    const r = JSON.parse(execFileSync(process.execPath, [script, '--json'], { encoding: 'utf8' })) as {
      sdk: { gzipBytes: number; minBytes: number; paths: string[] }
      partysocket: { gzipBytes: number }
      targetBytes: number
    }
    console.log(`bundle size: SDK ${r.sdk.gzipBytes} B min+gzip (${r.sdk.minBytes} B min), partysocket/ws alone ${r.partysocket.gzipBytes} B`)
    expect(r.targetBytes).toBe(10 * 1024)
    expect(r.sdk.gzipBytes).toBeLessThanOrEqual(r.targetBytes)
    // The protocol's codes and depth check are in; its zod schemas must not be (they would double the bundle).
    expect(r.sdk.paths.some((p) => p.includes('protocol'))).toBe(true)
    expect(r.sdk.paths.filter((p) => p.includes('zod'))).toEqual([])
  })
})
