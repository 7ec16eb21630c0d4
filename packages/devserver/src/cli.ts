#!/usr/bin/env node
/**
 * `lifeline dev`: a local cluster (balancer + N node processes + store) for developing an app against.
 * `lifeline node`: one standalone node (behind HAProxy/nginx, on Redis), see src/node/main.ts.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startCluster, type Cluster, type ClusterOptions } from './cluster/index.js'
import { ClusterError, ClusterErrorCode } from './errors.js'
import { NODE_DEFAULTS as N } from './node/options.js'
import { parseApiKeys } from './security/api-keys.js'
import { describeImpairment } from './faults/options.js'
import { impairmentFlags } from './faults/flags.js'

const HELP = `lifeline: keep WebSocket sessions alive through node crashes, deploys and frozen nodes.

Usage:
  lifeline dev  [options]   start a local cluster: balancer + node processes + store
  lifeline node [options]   run one standalone node (see \`lifeline node --help\`)

lifeline dev options (default in brackets):
  --nodes <n>              node processes to start [3]
  --port <port>            balancer port, 0 = any free one [8080]
  --host <host>            balancer address [127.0.0.1: not exposed to the network]
  --store <spec>           memory | redis://host:port [memory: held by this process, served to nodes over IPC]
  --restart                start a crashed node again, same id [off]
  --chaos <duration>       every <duration> (e.g. 10s, 500ms, 2m) SIGKILL a random node and restart it [off]
  --secret <s>             HMAC secret for session tokens [random per cluster]
  --heartbeat-ms <ms>      node ping interval [${N.heartbeatMs}]
  --timeout-ms <ms>        close a client silent this long [${N.timeoutMs}]
  --session-ttl-ms <ms>    session retention after the last touch [${N.sessionTtlMs}]
  --drain-timeout-ms <ms>  longest a drain (SIGTERM) may take [${N.drainTimeoutMs}]
  --max-frame-bytes <n>    largest frame a node accepts, else close 1009 [${N.maxFrameBytes}]
  --api-key <key>          a key the HTTP API (/_lifeline/v1/) accepts; repeatable, or LIFELINE_API_KEYS=k1,k2
                           [none: the API answers 403 API_DISABLED]
  --jwt-secret <s>         require users' JWTs, HS256 with this secret [none: open, anyone may connect]
  --jwt-public-key <file>  require users' JWTs, RS256/ES256, verified with this PEM or JWK public key
  --jwt-issuer <iss>       accept only tokens with this iss; --jwt-audience <aud> likewise for aud
  --on-connect <url>       POST each connection's { session, user, claims, resumed, node } here; 2xx lets it in
  --on-send <url>          POST each client send(data) here (Idempotency-Key: <session>:<seq>) instead of echoing it
  --webhook-timeout-ms <ms> longest a webhook call may take [${N.webhookTimeoutMs}]
  --latency <delay>        impair every node's client links from the start: each frame this much later, each
                           way (200ms, 0.2s, or 200 = ms) [0]; cluster.heal() or POST /_lifeline/api/heal ends it
  --jitter <delay>         each frame's delay varies by up to ± this, order kept (50ms, 50) [0]
  --bandwidth <bytes/s>    each way, at most this many bytes a second per connection (64000, 64k, 1M) [unlimited]
  --admin-remote           serve the admin API to non-loopback clients too [off: it can kill nodes]
  --quiet                  do not print node output [off]
  -h, --help               this text

Admin API on the balancer port: GET /_lifeline/api/nodes; POST /_lifeline/api/nodes (add);
POST /_lifeline/api/nodes/<id>/kill|drain|freeze|thaw|restart; DELETE /_lifeline/api/nodes/<id>;
POST /_lifeline/api/nodes/<id>/impair (body {"latencyMs":300,"jitterMs":50,"blackhole":false,"store":{…}}),
POST /_lifeline/api/nodes/<id>/heal, POST /_lifeline/api/sessions/<sid>/impair|heal, POST /_lifeline/api/heal;
GET /_lifeline/api/events?after=<seq> (what happened, with times).
Dashboard (the same controls in a page): http://<host>:<port>/ . Ctrl-C stops every node and the balancer.
`

const DEV_FLAGS = {
  nodes: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  store: { type: 'string' },
  restart: { type: 'boolean' },
  chaos: { type: 'string' },
  secret: { type: 'string' },
  'heartbeat-ms': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'session-ttl-ms': { type: 'string' },
  'drain-timeout-ms': { type: 'string' },
  'max-frame-bytes': { type: 'string' },
  'api-key': { type: 'string', multiple: true },
  'jwt-secret': { type: 'string' },
  'jwt-public-key': { type: 'string' },
  'jwt-issuer': { type: 'string' },
  'jwt-audience': { type: 'string' },
  'on-connect': { type: 'string' },
  'on-send': { type: 'string' },
  'webhook-timeout-ms': { type: 'string' },
  latency: { type: 'string' },
  jitter: { type: 'string' },
  bandwidth: { type: 'string' },
  'admin-remote': { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

/** A flag the CLI cannot use: BAD_OPTION like the cluster's own, but exit 2 and a pointer to --help. */
class UsageError extends ClusterError {
  constructor(message: string) {
    super(ClusterErrorCode.BAD_OPTION, message)
  }
}

/** `10s`, `500ms`, `2m` → milliseconds. A bare number is refused: seconds or milliseconds would be a guess. */
function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim())
  if (!match) throw new UsageError(`--chaos: "${text}" is not a duration; write e.g. 10s, 500ms or 2m`)
  const value = Number(match[1]) * { ms: 1, s: 1_000, m: 60_000 }[match[2] as 'ms' | 's' | 'm']
  if (value < 100) throw new UsageError(`--chaos: ${text} is too short; at least 100ms, so a node can come back`)
  return value
}

function integer(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined
  const value = Number(text)
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name}: expected an integer >= ${min}, got "${text}"`)
  return value
}

function devOptions(argv: string[]): (ClusterOptions & { quiet: boolean }) | 'help' {
  const { values, positionals } = parseArgs({ args: argv, options: DEV_FLAGS, strict: true, allowPositionals: true })
  if (values.help) return 'help'
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)
  return {
    nodes: integer('nodes', values.nodes, 0) ?? 3,
    port: integer('port', values.port, 0) ?? 8080,
    host: values.host ?? '127.0.0.1',
    store: values.store ?? 'memory',
    restart: values.restart ?? false,
    chaosMs: values.chaos === undefined ? undefined : parseDuration(values.chaos),
    secret: values.secret,
    heartbeatMs: integer('heartbeat-ms', values['heartbeat-ms'], 1),
    timeoutMs: integer('timeout-ms', values['timeout-ms'], 1),
    sessionTtlMs: integer('session-ttl-ms', values['session-ttl-ms'], 1),
    drainTimeoutMs: integer('drain-timeout-ms', values['drain-timeout-ms'], 0),
    maxFrameBytes: integer('max-frame-bytes', values['max-frame-bytes'], 1),
    ...backendOptions(values),
    ...impairOption(values),
    adminRemote: values['admin-remote'] ?? false,
    quiet: values.quiet ?? false,
  }
}

/** --api-key, --jwt-*, --on-*: the options for an app's backend (the HTTP API, JWT auth, webhooks). */
function backendOptions(values: ReturnType<typeof parseArgs<{ options: typeof DEV_FLAGS }>>['values']): Pick<ClusterOptions, 'apiKeys' | 'auth' | 'webhooks'> {
  const out: Pick<ClusterOptions, 'apiKeys' | 'auth' | 'webhooks'> = {}
  const keys = [...parseApiKeys(process.env.LIFELINE_API_KEYS), ...(values['api-key'] ?? [])]
  if (keys.length) out.apiKeys = keys
  const secret = values['jwt-secret']
  const file = values['jwt-public-key']
  if (secret !== undefined && file !== undefined) throw new UsageError('--jwt-secret and --jwt-public-key: give one (HS256 with a secret, or RS256/ES256 with a public key)')
  let publicKey: string | undefined
  if (file !== undefined) {
    try {
      publicKey = readFileSync(file, 'utf8')
    } catch (e) {
      throw new UsageError(`--jwt-public-key: cannot read ${file} (${(e as Error).message})`)
    }
  }
  if (secret !== undefined || publicKey !== undefined) {
    out.auth = { jwt: { ...(secret !== undefined ? { secret } : { publicKey }), ...(values['jwt-issuer'] ? { issuer: values['jwt-issuer'] } : {}), ...(values['jwt-audience'] ? { audience: values['jwt-audience'] } : {}) } }
  } else if (values['jwt-issuer'] || values['jwt-audience']) {
    throw new UsageError('--jwt-issuer/--jwt-audience need --jwt-secret or --jwt-public-key')
  }
  const webhooks = {
    ...(values['on-connect'] ? { connect: webhookUrl('on-connect', values['on-connect']) } : {}),
    ...(values['on-send'] ? { send: webhookUrl('on-send', values['on-send']) } : {}),
    ...(values['webhook-timeout-ms'] ? { timeoutMs: integer('webhook-timeout-ms', values['webhook-timeout-ms'], 1) } : {}),
  }
  if (Object.keys(webhooks).length) out.webhooks = webhooks
  return out
}

/** --latency, --jitter, --bandwidth: ClusterOptions.impair, every node from its start (faults/flags.ts reads them). */
function impairOption(values: ReturnType<typeof parseArgs<{ options: typeof DEV_FLAGS }>>['values']): Pick<ClusterOptions, 'impair'> {
  try {
    const impair = impairmentFlags({ latency: values.latency, jitter: values.jitter, bandwidth: values.bandwidth })
    return impair ? { impair } : {}
  } catch (e) {
    throw new UsageError((e as Error).message)
  }
}

function webhookUrl(name: string, text: string): string {
  if (!/^https?:\/\/./.test(text)) throw new UsageError(`--${name}: expected an http:// or https:// URL, got "${text}"`)
  return text
}

async function dev(argv: string[]): Promise<void> {
  const options = devOptions(argv)
  if (options === 'help') return void process.stdout.write(HELP)
  const log = options.quiet
    ? (line: string, stream: 'stdout' | 'stderr') => void (stream === 'stderr' && line.startsWith('[supervisor]') && console.error(line))
    : (line: string, stream: 'stdout' | 'stderr') => (stream === 'stderr' ? console.error(line) : console.log(line))
  const cluster = await startCluster({ ...options, log })
  printBanner(cluster, options)
  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) {
      console.error(`lifeline: ${signal} again, exiting now`)
      process.exit(1)
    }
    stopping = true
    console.log(`\nlifeline: ${signal}, stopping ${cluster.nodes.length} nodes…`)
    cluster.stop().then(
      () => process.exit(0),
      (e: Error) => (console.error(`lifeline: stop failed: ${e.message}`), process.exit(1)),
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

function printBanner(cluster: Cluster, options: ClusterOptions): void {
  const extras = [options.restart && 'restart on crash', options.chaosMs && `chaos every ${options.chaosMs} ms`].filter(Boolean)
  console.log(`lifeline dev: ${cluster.nodes.length} nodes, ${options.store} store${extras.length ? `, ${extras.join(', ')}` : ''}`)
  console.log(`  url:    ${cluster.url}`)
  console.log(`  admin:  ${cluster.adminUrl}/nodes`)
  console.log(`  dashboard: ${cluster.adminUrl.replace(/\/_lifeline\/api$/, '/')}`)
  for (const n of cluster.nodes) console.log(`  node ${n.id}: pid ${n.pid}, port ${n.port}, ${n.status}`)
  const api = cluster.url.replace(/^ws/, 'http') + '/_lifeline/v1/'
  console.log(options.auth
    ? `  auth:   JWT required (${options.auth.jwt.secret !== undefined ? 'HS256' : 'RS256/ES256'}): a hello without a valid token is refused`
    : '  auth:   none, the cluster is open: any client may connect and read or write any topic (--jwt-secret or --jwt-public-key to require tokens)')
  console.log(options.apiKeys?.length
    ? `  api:    ${api} (${options.apiKeys.length} key${options.apiKeys.length > 1 ? 's' : ''})`
    : `  api:    off (${api} answers 403 API_DISABLED; --api-key to turn it on)`)
  if (options.webhooks?.connect) console.log(`  on-connect: ${options.webhooks.connect}`)
  if (options.webhooks?.send) console.log(`  on-send:    ${options.webhooks.send}`)
  if (options.impair) console.log(`  faults: every node impaired: ${describeImpairment(options.impair)} (POST ${cluster.adminUrl}/heal ends it)`)
  console.log('Ctrl-C stops everything.')
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  if (command === 'dev') return dev(rest)
  if (command === 'node') {
    if (rest.includes('--help') || rest.includes('-h')) {
      const { NODE_USAGE } = await import('./node/args.js')
      return void process.stdout.write(`${NODE_USAGE}\n`)
    }
    const { runNode } = await import('./node/main.js')
    return void (await runNode(rest))
  }
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return void process.stdout.write(HELP)
  throw new UsageError(`unknown command "${command}"; use dev or node`)
}

// One line per failure, `lifeline: CODE: message`, with a code from errors.ts (node's parseArgs refusals are BAD_OPTION too).
main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof UsageError || (e as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`lifeline: ${ClusterErrorCode.BAD_OPTION}: ${(e as Error).message}\nRun \`lifeline --help\` for the options.`)
    process.exit(2)
  }
  console.error(e instanceof ClusterError ? `lifeline: ${e.code}: ${e.message}` : e)
  process.exit(1)
})
