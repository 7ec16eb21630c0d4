/**
 * `lifeline node` flags → createNode options and a store spec. Pure: argv and env in, options or an error out.
 */
import type { NodeOptions } from './options.js'

export interface NodeArgs {
  id: string | undefined
  port: number
  host: string
  store: string
  secret: string | undefined
  options: Pick<NodeOptions, 'heartbeatMs' | 'timeoutMs' | 'sessionTtlMs' | 'drainTimeoutMs' | 'maxFrameBytes'>
}

export const NODE_USAGE = `usage: lifeline node --port <p> [--id <id>] [--host 127.0.0.1] [--store ipc|memory|redis://…]
       [--secret <s> | env LIFELINE_SECRET] [--heartbeat-ms n] [--timeout-ms n] [--session-ttl-ms n]
       [--drain-timeout-ms n] [--max-frame-bytes n]`

const NUMERIC = {
  '--heartbeat-ms': 'heartbeatMs',
  '--timeout-ms': 'timeoutMs',
  '--session-ttl-ms': 'sessionTtlMs',
  '--drain-timeout-ms': 'drainTimeoutMs',
  '--max-frame-bytes': 'maxFrameBytes',
} as const

export function parseNodeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): NodeArgs {
  // Default store: `ipc` when forked by a supervisor (it hosts the store), else a node of its own in memory.
  const args: NodeArgs = { id: undefined, port: 0, host: '127.0.0.1', store: process.send ? 'ipc' : 'memory', secret: env.LIFELINE_SECRET || undefined, options: {} }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!
    const value = argv[i + 1]
    if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value\n${NODE_USAGE}`)
    i += 1
    if (flag === '--id') args.id = value
    else if (flag === '--host') args.host = value
    else if (flag === '--store') args.store = value
    else if (flag === '--secret') args.secret = value
    else if (flag === '--port') args.port = integer(flag, value, 0, 65535)
    else if (flag in NUMERIC) args.options[NUMERIC[flag as keyof typeof NUMERIC]] = integer(flag, value, 1, 2 ** 31)
    else throw new Error(`unknown flag ${flag}\n${NODE_USAGE}`)
  }
  return args
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
  return n
}
