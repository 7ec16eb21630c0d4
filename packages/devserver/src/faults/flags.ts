/**
 * `lifeline dev --latency 200ms --jitter 50ms --bandwidth 64k`: the CLI's flags → ImpairOptions (ClusterOptions
 * `impair`, every node from its start). Pure: strings in, an impairment or a ClusterError BAD_OPTION out (the CLI
 * turns that into its usage error, exit 2). Limits are parseImpairment's, so the CLI refuses what the API would.
 */
import { ClusterError, ClusterErrorCode } from '../errors.js'
import { parseImpairment, type ImpairOptions } from './options.js'

export interface ImpairmentFlags {
  latency?: string | undefined
  jitter?: string | undefined
  bandwidth?: string | undefined
}

/** The flags given, as one impairment; undefined when none is given. */
export function impairmentFlags(flags: ImpairmentFlags): ImpairOptions | undefined {
  const options: ImpairOptions = {}
  if (flags.latency !== undefined) options.latencyMs = delayFlag('latency', flags.latency)
  if (flags.jitter !== undefined) options.jitterMs = delayFlag('jitter', flags.jitter)
  if (flags.bandwidth !== undefined) options.bandwidthBytesPerSec = bandwidthFlag(flags.bandwidth)
  if (Object.keys(options).length === 0) return undefined
  try {
    return parseImpairment(options, 'node')
  } catch (e) {
    throw new ClusterError(ClusterErrorCode.BAD_OPTION, `--latency/--jitter/--bandwidth: ${(e as Error).message}`)
  }
}

/**
 * `200ms`, `0.2s`, or a plain number of milliseconds (`200`): unlike --chaos's interval, a link delay is always
 * thought of in milliseconds, so a bare number is not a guess.
 */
export function delayFlag(name: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim())
  if (!match) throw new ClusterError(ClusterErrorCode.BAD_OPTION, `--${name}: "${text}" is not a delay; write e.g. 200ms, 0.2s or 200 (milliseconds)`)
  return Math.round(Number(match[1]) * (match[2] === 's' ? 1_000 : 1))
}

/** `64000`, `64k` (× 1,000) or `1M` (× 1,000,000) bytes a second. */
export function bandwidthFlag(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM])?$/.exec(text.trim())
  const value = match ? Math.round(Number(match[1]) * (match[2] === undefined ? 1 : /k/i.test(match[2]) ? 1_000 : 1_000_000)) : Number.NaN
  if (!match || value < 1) throw new ClusterError(ClusterErrorCode.BAD_OPTION, `--bandwidth: "${text}" is not a rate; write bytes a second, e.g. 64000, 64k or 1M`)
  return value
}
