/**
 * `lifeline node` flags → createNode options and a store spec. Pure: argv and env in, options or an error out.
 * (A flag naming a file, --jwt-public-key, is read by main.ts.)
 *
 * Secrets can come from the environment instead of argv, which `ps` shows to every user of the machine:
 * LIFELINE_SECRET, LIFELINE_API_KEYS (comma-separated), LIFELINE_JWT_SECRET, LIFELINE_JWT_PUBLIC_KEY (the key's
 * PEM or JWK text). A flag adds to (keys) or overrides (secrets) its variable.
 */
import { parseApiKeys } from '../security/api-keys.js'
import type { NodeOptions } from './options.js'

export interface NodeArgs {
  id: string | undefined
  port: number
  host: string
  store: string
  secret: string | undefined
  options: Pick<NodeOptions, 'heartbeatMs' | 'timeoutMs' | 'sessionTtlMs' | 'drainTimeoutMs' | 'maxFrameBytes' | 'apiKeys' | 'auth' | 'webhooks'>
  /** --jwt-public-key: the file to read the public key from. */
  jwtPublicKeyFile: string | undefined
}

export const NODE_USAGE = `usage: lifeline node --port <p> [--id <id>] [--host 127.0.0.1] [--store ipc|memory|redis://…]
       [--secret <s> | env LIFELINE_SECRET] [--heartbeat-ms n] [--timeout-ms n] [--session-ttl-ms n]
       [--drain-timeout-ms n] [--max-frame-bytes n]
       [--api-key K]… [--jwt-secret S | --jwt-public-key FILE] [--jwt-issuer I] [--jwt-audience A]
       [--on-connect URL] [--on-send URL] [--webhook-timeout-ms n]`

const NUMERIC = {
  '--heartbeat-ms': 'heartbeatMs',
  '--timeout-ms': 'timeoutMs',
  '--session-ttl-ms': 'sessionTtlMs',
  '--drain-timeout-ms': 'drainTimeoutMs',
  '--max-frame-bytes': 'maxFrameBytes',
} as const

export function parseNodeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): NodeArgs {
  // Default store: `ipc` when forked by a supervisor (it hosts the store), else a node of its own in memory.
  const args: NodeArgs = { id: undefined, port: 0, host: '127.0.0.1', store: process.send ? 'ipc' : 'memory', secret: env.LIFELINE_SECRET || undefined, options: {}, jwtPublicKeyFile: undefined }
  const apiKeys = parseApiKeys(env.LIFELINE_API_KEYS)
  const jwt: { secret?: string; publicKey?: string; issuer?: string; audience?: string } = {}
  if (env.LIFELINE_JWT_SECRET) jwt.secret = env.LIFELINE_JWT_SECRET
  if (env.LIFELINE_JWT_PUBLIC_KEY) jwt.publicKey = env.LIFELINE_JWT_PUBLIC_KEY
  const webhooks: NonNullable<NodeOptions['webhooks']> = {}
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
    else if (flag === '--api-key') apiKeys.push(value)
    else if (flag === '--jwt-secret') jwt.secret = value
    else if (flag === '--jwt-public-key') args.jwtPublicKeyFile = value
    else if (flag === '--jwt-issuer') jwt.issuer = value
    else if (flag === '--jwt-audience') jwt.audience = value
    else if (flag === '--on-connect') webhooks.connect = url(flag, value)
    else if (flag === '--on-send') webhooks.send = url(flag, value)
    else if (flag === '--webhook-timeout-ms') webhooks.timeoutMs = integer(flag, value, 1, 2 ** 31)
    else if (flag in NUMERIC) args.options[NUMERIC[flag as keyof typeof NUMERIC]] = integer(flag, value, 1, 2 ** 31)
    else throw new Error(`unknown flag ${flag}\n${NODE_USAGE}`)
  }
  if (apiKeys.length) args.options.apiKeys = apiKeys
  if (jwt.secret !== undefined || jwt.publicKey !== undefined || args.jwtPublicKeyFile !== undefined) args.options.auth = { jwt }
  else if (jwt.issuer !== undefined || jwt.audience !== undefined) throw new Error(`--jwt-issuer/--jwt-audience need --jwt-secret or --jwt-public-key\n${NODE_USAGE}`)
  if (Object.keys(webhooks).length) args.options.webhooks = webhooks
  return args
}

/** An http(s) URL, as a webhook must be. */
function url(flag: string, value: string): string {
  let ok = false
  try {
    ok = /^https?:$/.test(new URL(value).protocol)
  } catch {
    // reported below
  }
  if (!ok) throw new Error(`${flag}: expected an http:// or https:// URL, got ${JSON.stringify(value)}`)
  return value
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
  return n
}
