/**
 * Row "bundle": the SDK's browser bundle, min + gzip, every runtime dependency included (the protocol's codes and
 * checks), against partysocket alone. Target: the SDK's own (size.js `targetBytes`, 10 KB), so the bench and the
 * SDK's size test judge by one number.
 * Uses the SDK's own `packages/sdk/scripts/size.js --json` when it exists, so the README and the bench quote
 * the same number; otherwise bundles the built SDK with esbuild the same way.
 */
import { existsSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { bundleSize } from '../lib/bundle-size.js'
import { attempt, failed, count } from '../lib/line.js'
import { ratio } from '../lib/stats.js'
import { progress } from '../lib/log.js'

/** Only when size.js is absent (it says its own target): the SDK's 10 KB. */
const FALLBACK_TARGET_BYTES = 10 * 1024
const sizeScript = fileURLToPath(new URL('../../packages/sdk/scripts/size.js', import.meta.url))

export async function run() {
  const base = await attempt(() => bundleSize(`export { default } from 'partysocket'`))
  const sdk = await attempt(async () => {
    if (existsSync(sizeScript)) {
      /** @type {{ gzipBytes?: number, gzip?: number, gz?: number, minBytes?: number, min?: number, targetBytes?: number, partysocket?: { name: string, gzipBytes: number } }} */
      const json = JSON.parse(execFileSync(process.execPath, [sizeScript, '--json'], { encoding: 'utf8', timeout: 60_000 }))
      const gzipBytes = json.gzipBytes ?? json.gzip ?? json.gz
      if (typeof gzipBytes !== 'number') throw new Error(`size.js --json gave no gzip size: ${JSON.stringify(json)}`)
      return { gzipBytes, minBytes: json.minBytes ?? json.min ?? null, targetBytes: json.targetBytes, source: 'packages/sdk/scripts/size.js --json', partysocket: json.partysocket }
    }
    return { ...(await bundleSize(`export * from '@lifeline/sdk'`)), source: 'esbuild of @lifeline/sdk (size.js absent)' }
  })
  const target = ('targetBytes' in sdk && typeof sdk.targetBytes === 'number' && sdk.targetBytes) || FALLBACK_TARGET_BYTES
  progress('bundle', `sdk ${sdk.gzipBytes ?? sdk.error} B, partysocket ${base.gzipBytes ?? base.error} B (${sdk.source ?? ''})`)
  /** @param {{ gzipBytes: number, minBytes: number | null }} x */
  const fmt = (x) => `${count(x.gzipBytes)} B gz (${count(x.minBytes)} B min)`
  return {
    lines: [
      {
        row: 'bundle',
        measure: 'browser bundle, min+gzip, deps included',
        lifeline: sdk.error !== undefined ? failed(sdk) : fmt(sdk),
        baseline: base.error !== undefined ? failed(base) : fmt(base),
        ratio: ratio(sdk.gzipBytes, base.gzipBytes),
        target: `≤ ${target / 1024} KB (${count(target)} B)`,
        holds: sdk.error !== undefined ? null : sdk.gzipBytes <= target,
        ...(sdk.partysocket?.gzipBytes
          ? { note: `baseline is \`import PartySocket from 'partysocket'\`; ${sdk.partysocket.name} alone (what the SDK wraps) is ${count(sdk.partysocket.gzipBytes)} B gz` }
          : {}),
      },
    ],
    details: { sdk, partysocket: base },
  }
}
