/** The `lifeline` CLI as a user runs it: real processes, real signals (run `npm run build` first). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { processAlive } from './support/processes.js'
import { waitFor } from './support/wait.js'

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
let running: ChildProcess | undefined

afterEach(() => {
  running?.kill('SIGKILL')
})

/** Starts `lifeline dev` and resolves with its URL, admin URL and node pids once the banner is printed. */
async function startDev(args: string[]): Promise<{ child: ChildProcess; url: string; admin: string; pids: number[]; lines: string[] }> {
  const child = spawn(process.execPath, [CLI, 'dev', '--port', '0', '--quiet', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  running = child
  const lines: string[] = []
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line)
      if (line.startsWith('Ctrl-C')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`lifeline dev exited (${code}): ${lines.join('\n')}`)))
  })
  const find = (re: RegExp): string => (lines.map((l) => re.exec(l)?.[1]).find(Boolean) as string) ?? ''
  const pids = lines.flatMap((l) => /node n\d+: pid (\d+)/.exec(l)?.[1] ?? []).map(Number)
  return { child, url: find(/url:\s+(\S+)/), admin: find(/admin:\s+(\S+)/), pids, lines }
}

describe('lifeline CLI', () => {
  it('--help documents every flag with its default', () => {
    const out = spawnSync(process.execPath, [CLI, 'dev', '--help'], { encoding: 'utf8' }).stdout
    for (const flag of ['--nodes', '--port', '--host', '--store', '--restart', '--chaos', '--secret', '--heartbeat-ms', '--timeout-ms', '--session-ttl-ms', '--drain-timeout-ms', '--max-frame-bytes', '--admin-remote', '--quiet']) {
      expect(out).toContain(flag)
    }
    expect(out).toContain('[3]')
    expect(out).toContain('[8080]')
  })

  it('--help documents the flags for an app\'s backend', () => {
    const out = spawnSync(process.execPath, [CLI, 'dev', '--help'], { encoding: 'utf8' }).stdout
    for (const flag of ['--api-key', '--jwt-secret', '--jwt-public-key', '--jwt-issuer', '--jwt-audience', '--on-connect', '--on-send', '--webhook-timeout-ms']) expect(out).toContain(flag)
  })

  it('dev says when the cluster is open; with --jwt-secret and --api-key it requires tokens and serves the API through the balancer', async () => {
    const open = await startDev(['--nodes', '1'])
    expect(open.lines.find((l) => l.includes('auth:'))).toContain('none, the cluster is open')
    expect(open.lines.find((l) => l.includes('api:'))).toContain('off')
    const stopped = new Promise((resolve) => open.child.once('exit', resolve))
    open.child.kill('SIGINT')
    await stopped
    const key = 'cli-test-api-key-0123456789'
    const dev = await startDev(['--nodes', '1', '--api-key', key, '--jwt-secret', 'cli-test-jwt-secret-0123456789'])
    expect(dev.lines.find((l) => l.includes('auth:'))).toContain('JWT required (HS256)')
    expect(dev.lines.find((l) => l.includes('api:'))).toContain('(1 key)')
    const res = await fetch(`${dev.url.replace(/^ws/, 'http')}/_lifeline/v1/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ topic: 'cli', data: 1 }),
    })
    expect([res.status, await res.json()]).toEqual([200, { topic: 'cli', offset: 1, epoch: expect.any(String) }])
  })

  it('refuses a bad flag with exit 2 and says what to do', () => {
    const r = spawnSync(process.execPath, [CLI, 'dev', '--chaos', '10'], { encoding: 'utf8' })
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('10s')
  })

  it('dev prints the URLs, serves the admin API, and Ctrl-C stops every node', async () => {
    const dev = await startDev(['--nodes', '2'])
    expect(dev.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
    expect(dev.pids).toHaveLength(2)
    const nodes = (await (await fetch(dev.admin)).json()) as { nodes: { status: string }[] }
    expect(nodes.nodes.map((n) => n.status)).toEqual(['up', 'up'])
    const exited = new Promise<number | null>((resolve) => dev.child.once('exit', resolve))
    dev.child.kill('SIGINT')
    expect(await exited).toBe(0)
    for (const pid of dev.pids) expect(processAlive(pid)).toBe(false)
  })

  it('if the supervisor itself dies (SIGKILL), its nodes exit too: no orphans', async () => {
    const dev = await startDev(['--nodes', '2'])
    dev.child.kill('SIGKILL')
    await waitFor(() => dev.pids.every((pid) => !processAlive(pid)), 'every node to exit after its supervisor died', 10_000)
  })
})
