#!/usr/bin/env node
/**
 * `lifeline dev`: a local cluster (balancer + N node processes + store) for developing an app against.
 * `lifeline node`: one standalone node (behind HAProxy/nginx, on Redis), see src/node/main.ts.
 */
import { parseArgs } from 'node:util'
import { startCluster, type Cluster, type ClusterOptions } from './cluster/index.js'
import { ClusterError, ClusterErrorCode } from './errors.js'
import { NODE_DEFAULTS as N } from './node/options.js'

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
  --admin-remote           serve the admin API to non-loopback clients too [off: it can kill nodes]
  --quiet                  do not print node output [off]
  -h, --help               this text

Admin API on the balancer port: GET /_lifeline/api/nodes; POST /_lifeline/api/nodes (add);
POST /_lifeline/api/nodes/<id>/kill|drain|freeze|thaw|restart; DELETE /_lifeline/api/nodes/<id>.
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
    adminRemote: values['admin-remote'] ?? false,
    quiet: values.quiet ?? false,
  }
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
