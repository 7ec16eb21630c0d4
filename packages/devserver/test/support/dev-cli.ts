/** `lifeline dev` as a user starts it: a real process (run `npm run build` first), its banner read line by line. */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach } from 'vitest'

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

export interface Dev {
  child: ChildProcess
  url: string
  /** The admin API's base, as the banner prints it (…/_lifeline/api). */
  admin: string
  pids: number[]
  lines: string[]
}

/**
 * A `startDev(args)` for a test file: starts `lifeline dev --port 0 --quiet …args` and resolves once the banner is
 * printed; the process is SIGKILLed after each test (vitest's afterEach, registered by this call).
 */
export function devStarter(): (args: string[]) => Promise<Dev> {
  let running: ChildProcess | undefined
  afterEach(() => {
    running?.kill('SIGKILL')
    running = undefined
  })
  return async (args) => {
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
    return { child, url: find(/url:\s+(\S+)/), admin: find(/admin:\s+(\S+)\/nodes/), pids, lines }
  }
}
