import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const script = fileURLToPath(new URL('../scripts/size.js', import.meta.url))

describe('bundle size (needs `npm run build`)', () => {
  it('the SDK with every runtime dependency is at most 12 KB min+gzip for browsers', () => {
    const r = JSON.parse(execFileSync(process.execPath, [script, '--json'], { encoding: 'utf8' })) as {
      sdk: { gzipBytes: number; minBytes: number }
      partysocket: { gzipBytes: number }
      targetBytes: number
    }
    console.log(`bundle size: SDK ${r.sdk.gzipBytes} B min+gzip (${r.sdk.minBytes} B min), partysocket/ws ${r.partysocket.gzipBytes} B`)
    expect(r.sdk.gzipBytes).toBeLessThanOrEqual(r.targetBytes)
    expect(r.sdk.gzipBytes).toBeGreaterThan(r.partysocket.gzipBytes) // partysocket really is inside
  })
})
