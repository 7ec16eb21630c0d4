/** The `lifeline` CLI as a user runs it: real processes, real signals (run `npm run build` first). */
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { CLI, devStarter } from './support/dev-cli.js'
import { processAlive } from './support/processes.js'
import { waitFor } from './support/wait.js'

const startDev = devStarter()

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
    const nodes = (await (await fetch(`${dev.admin}/nodes`)).json()) as { nodes: { status: string }[] }
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
