/** The machine a run was taken on, as BENCHMARKS.md quotes it. */
import os from 'node:os'
import { readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

export function machine() {
  const cpuinfo = safe(() => readFileSync('/proc/cpuinfo', 'utf8'), '')
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown'
  return {
    nproc: os.availableParallelism(),
    cpu: model.trim(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    nofile: safe(() => execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim(), 'unknown'),
    redis: safe(() => execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim().split(' ')[2], 'not installed'),
  }
}

/**
 * @template T
 * @param {() => T} fn
 * @param {T} fallback
 * @returns {T}
 */
function safe(fn, fallback) {
  try {
    return fn()
  } catch {
    return fallback
  }
}
