/**
 * One node process: fork it, host the memory store for it (store-link.ts), hand it connections (balancer/handoff.ts),
 * wait until it says it listens, forward its output line by line, and know when it exited. No policy (restarts, routing): that is the supervisor's.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { StoreLink, STORE_SOCKET_ENV } from './store-link.js'
import { HandoffChannel } from '../balancer/handoff.js'
import type { Store } from '../store/types.js'
import { ClusterError, ClusterErrorCode } from '../errors.js'
import type { NodeProcessOptions } from './types.js'
import { isStatsReport, type StatsReport } from '../node/stats.js'
import { FAULTS_TAG, isFaultsMessage, type FaultsToNode } from '../faults/messages.js'
import type { FaultState } from '../faults/options.js'

export interface SpawnOptions extends NodeProcessOptions {
  id: string
  host: string
  secret: string
  /** The supervisor's memory store to serve over IPC, or a `redis://…` spec the node opens itself. */
  store: Store | string
  entry: string
  startTimeoutMs: number
  log: (line: string, stream: 'stdout' | 'stderr') => void
}

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export class NodeProcess {
  readonly child: ChildProcess
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<Exit>
  exit: Exit | undefined
  /** The node's own port, once it listens. */
  port: number | undefined
  /** Where the balancer passes this node its connections. */
  readonly handoff: HandoffChannel
  private readonly recent: string[] = []
  private faultSerial = 0

  constructor(readonly options: SpawnOptions) {
    const storeFlag = typeof options.store === 'string' ? options.store : 'ipc'
    const args = ['--id', options.id, '--port', '0', '--host', options.host, '--store', storeFlag]
    const flags: [string, number | undefined][] = [
      ['--heartbeat-ms', options.heartbeatMs],
      ['--timeout-ms', options.timeoutMs],
      ['--session-ttl-ms', options.sessionTtlMs],
      ['--drain-timeout-ms', options.drainTimeoutMs],
      ['--max-frame-bytes', options.maxFrameBytes],
    ]
    for (const [flag, value] of flags) if (value !== undefined) args.push(flag, String(value))
    const jwt = options.auth?.jwt
    const named: [string, string | undefined][] = [
      ['--jwt-issuer', jwt?.issuer as string | undefined],
      ['--jwt-audience', jwt?.audience as string | undefined],
      ['--on-connect', options.webhooks?.connect],
      ['--on-send', options.webhooks?.send],
      ['--webhook-timeout-ms', options.webhooks?.timeoutMs === undefined ? undefined : String(options.webhooks.timeoutMs)],
    ]
    for (const [flag, value] of named) if (value !== undefined) args.push(flag, value)
    // Pipes, not inherit: output is prefixed with the node id, and a test run can drop it.
    // The secret goes in the environment, not argv: argv is world-readable in `ps` and /proc.
    const env: NodeJS.ProcessEnv = { ...process.env, LIFELINE_SECRET: options.secret }
    // Keys and JWT secrets likewise; unset ones are removed, so a node never takes them from this process's own env.
    for (const name of ['LIFELINE_API_KEYS', 'LIFELINE_JWT_SECRET', 'LIFELINE_JWT_PUBLIC_KEY']) delete env[name]
    if (options.apiKeys?.length) env.LIFELINE_API_KEYS = options.apiKeys.join(',')
    if (jwt?.secret !== undefined) env.LIFELINE_JWT_SECRET = jwt.secret
    if (jwt?.publicKey !== undefined) env.LIFELINE_JWT_PUBLIC_KEY = typeof jwt.publicKey === 'string' ? jwt.publicKey : JSON.stringify(jwt.publicKey)
    // The store goes over a socket of its own, not the fork() channel the balancer passes connections on.
    const link = typeof options.store === 'string' ? undefined : new StoreLink(options.store)
    if (link) env[STORE_SOCKET_ENV] = link.path
    this.child = fork(options.entry, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env })
    const detach = (): void => link?.close()
    this.handoff = new HandoffChannel(this.child)
    this.forward(this.child.stdout, 'stdout')
    this.forward(this.child.stderr, 'stderr')
    this.exited = new Promise((resolve) => {
      // 'exit' can come without 'error' and vice versa (spawn failure): whichever first.
      const done = (exit: Exit): void => {
        if (this.exit) return
        this.exit = exit
        detach()
        resolve(exit)
      }
      this.child.once('exit', (code, signal) => done({ code, signal }))
      this.child.once('error', () => {
        if (this.child.pid === undefined) done({ code: null, signal: null })
      })
    })
  }

  get id(): string {
    return this.options.id
  }
  get pid(): number | undefined {
    return this.child.pid
  }
  get alive(): boolean {
    return this.exit === undefined
  }

  /** Resolves with the port once the node sent `{ type: 'ready' }`; rejects if it exits or times out first. */
  ready(): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup()
        this.child.kill('SIGKILL')
        reject(this.failure(ClusterErrorCode.NODE_START_TIMEOUT, `did not listen within ${this.options.startTimeoutMs} ms`))
      }, this.options.startTimeoutMs)
      const onMessage = (message: unknown): void => {
        const m = message as { type?: unknown; port?: unknown }
        if (m?.type !== 'ready' || typeof m.port !== 'number') return
        cleanup()
        this.port = m.port
        resolve(m.port)
      }
      const cleanup = (): void => {
        clearTimeout(timer)
        this.child.off('message', onMessage)
      }
      this.child.on('message', onMessage)
      void this.exited.then((exit) => {
        if (this.port !== undefined) return
        cleanup()
        reject(this.failure(ClusterErrorCode.NODE_START_FAILED, `exited (code ${exit.code}, signal ${exit.signal}) before listening`))
      })
    })
  }

  /**
   * Resolves once the process is (or is no longer) stopped by SIGSTOP, as the kernel reports it in
   * /proc/<pid>/stat; at once where there is no /proc, or after `timeoutMs` (default 2 s) in any case.
   */
  async stopped(want: boolean, timeoutMs = 2_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.alive && Date.now() < deadline) {
      const state = processState(this.pid)
      if (state === undefined || (state === 'T') === want) return
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  }

  /**
   * Hand the node its whole network-fault state (faults/messages.ts); resolves once it says it applied it, or
   * after `timeoutMs` (a frozen node applies it when it runs again; an exited one never), or rejects with the
   * node's reason if it refused it. Only for a node that is listening: it takes the message from then on.
   */
  setFaults(state: FaultState, timeoutMs: number): Promise<void> {
    const serial = ++this.faultSerial
    return new Promise((resolve, reject) => {
      const done = (error?: Error): void => {
        clearTimeout(timer)
        this.child.off('message', onMessage)
        if (error) reject(error)
        else resolve()
      }
      const onMessage = (raw: unknown): void => {
        if (!isFaultsMessage(raw) || raw.serial !== serial || raw.kind === 'set') return
        done(raw.kind === 'refused' ? new ClusterError(ClusterErrorCode.BAD_OPTION, `node ${this.id} refused the impairment: ${raw.error}`) : undefined)
      }
      const timer = setTimeout(() => done(), timeoutMs)
      this.child.on('message', onMessage)
      void this.exited.then(() => done())
      const message: FaultsToNode = { lifeline: FAULTS_TAG, kind: 'set', serial, state }
      if (!this.alive || !this.child.connected) return done()
      this.child.send(message, (err) => err && done())
    })
  }

  /** Calls `listener` with each counters report the node sends (node/stats.ts), about once a second. */
  onStats(listener: (report: StatsReport) => void): void {
    this.child.on('message', (message: unknown) => {
      if (isStatsReport(message)) listener(message)
    })
  }

  /** Sends a signal if the process is alive; false if it was already gone. */
  signal(signal: NodeJS.Signals): boolean {
    if (!this.alive) return false
    try {
      return this.child.kill(signal)
    } catch {
      return false
    }
  }

  private failure(code: ClusterErrorCode, what: string): ClusterError {
    const tail = this.recent.length ? `; its last output:\n${this.recent.join('\n')}` : ''
    return new ClusterError(code, `node ${this.id} (${this.options.entry}) ${what}${tail}`)
  }

  private forward(stream: NodeJS.ReadableStream | null, name: 'stdout' | 'stderr'): void {
    if (!stream) return
    // Always read: an unread pipe fills and blocks the node on its next log line.
    createInterface({ input: stream }).on('line', (line) => {
      this.recent.push(line)
      if (this.recent.length > 20) this.recent.shift()
      // The node names itself in its own log lines (node.ts); anything else it prints gets the name here.
      const own = `[${this.id}] `
      this.options.log(line.startsWith(own) ? line : own + line, name)
    })
  }
}

/** The state letter of /proc/<pid>/stat (R, S, T for stopped …), or undefined where there is none (not Linux). */
function processState(pid: number | undefined): string | undefined {
  if (pid === undefined) return undefined
  try {
    // The command name is in parentheses and may contain spaces: the state follows the last ') '.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(') ') + 2, stat.lastIndexOf(') ') + 3)
  } catch {
    return undefined
  }
}

/**
 * The node entry script: dist/node/main.js next to this file's own dist folder. When this file runs from
 * src/ (tests on the sources), the built script in dist/ is used: node processes always run built JS.
 */
export function defaultNodeEntry(): string {
  const beside = fileURLToPath(new URL('../node/main.js', import.meta.url))
  if (existsSync(beside)) return beside
  return fileURLToPath(new URL('../../dist/node/main.js', import.meta.url))
}
