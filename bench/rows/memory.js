/**
 * Row "memory": bytes per idle connection on one node at 10,000 connections (1,000 with --quick), against a
 * plain `ws` server. Server and clients in separate processes; the server's RSS and heap (after two full GCs)
 * are read before and after the connections open and settle for a heartbeat or two, and the delta is divided
 * by the count. Each connection is a session subscribed to one of 100 topics (Lifeline) or one of 100 rooms
 * (plain). Target (issue 12): ≤ 1.3× plain ws, on RSS.
 */
import { execFileSync } from 'node:child_process'
import { startChild, sleep } from '../lib/proc.js'
import { attempt, failed, count } from '../lib/line.js'
import { ratio } from '../lib/stats.js'
import { progress } from '../lib/log.js'

const TARGET = 1.3
/** One heartbeat and a half (server pings every 2 s): ping/pong buffers and timers are in the figure. */
const SETTLE_MS = 3_000

/** @param {{ quick: boolean }} options */
export async function run({ quick }) {
  const wanted = quick ? 1_000 : 10_000
  const { connections, nofile, note } = fit(wanted)
  const base = await attempt(() => measure('plain', connections, nofile))
  const life = await attempt(() => measure('lifeline', connections, nofile))
  /** @param {typeof base} x */
  const fmt = (x) => (x.error !== undefined ? failed(x) : `${count(x.rssPerConn)} B RSS (${count(x.heapPerConn)} B heap)`)
  return {
    lines: [
      {
        row: 'memory',
        measure: `bytes per idle connection at ${count(connections)}`,
        lifeline: fmt(life),
        baseline: fmt(base),
        ratio: ratio(life.rssPerConn, base.rssPerConn),
        target: `≤ ${TARGET}× plain ws (RSS)`,
        holds: life.error !== undefined || base.error !== undefined ? null : life.rssPerConn <= TARGET * base.rssPerConn,
        ...(note ? { note } : {}),
      },
    ],
    details: { connections, note, plain: base, lifeline: life },
  }
}

/**
 * Each side holds one fd per connection, plus some. If `ulimit -n` is below that, the children are started
 * with it raised (`nofile`); if it cannot be raised that far (a hard limit below it, not root), the count is
 * scaled down and the row says so.
 * @param {number} wanted
 * @returns {{ connections: number, nofile?: number, note?: string }}
 */
function fit(wanted) {
  const need = wanted + 1_000
  try {
    const soft = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim())
    if (soft >= need) return { connections: wanted }
    const got = Number(execFileSync('sh', ['-c', `ulimit -n ${need} 2>/dev/null; ulimit -n`], { encoding: 'utf8' }).trim())
    if (got >= need) return { connections: wanted, nofile: need }
    const connections = Math.max(100, Math.floor((got - 1_000) / 100) * 100)
    return { connections, note: `scaled down to ${connections}: ulimit -n is ${got} and could not be raised to ${need}` }
  } catch {
    return { connections: wanted }
  }
}

/**
 * @param {'plain' | 'lifeline'} kind
 * @param {number} connections
 * @param {number | undefined} nofile
 */
async function measure(kind, connections, nofile) {
  /** @type {Record<string, string>} */
  const env = kind === 'plain' ? {} : { BENCH_STORE: 'memory' }
  const server = await startChild(kind === 'plain' ? 'plain-server.js' : 'lifeline-node.js', { nofile, execArgv: ['--expose-gc'], env })
  const fleet = await startChild('raw-fleet.js', { nofile })
  try {
    const url = `ws://127.0.0.1:${/** @type {{ port: number }} */ (await server.call('info')).port}`
    const memory = async () => /** @type {NodeJS.MemoryUsage} */ (await server.call('memory'))
    await sleep(500)
    const before = await memory()
    await fleet.call('connect', { kind, url, count: connections, rooms: 100 }, 180_000)
    await sleep(SETTLE_MS)
    const after = await memory()
    const rssPerConn = Math.round((after.rss - before.rss) / connections)
    const heapPerConn = Math.round((after.heapUsed + after.external - before.heapUsed - before.external) / connections)
    progress('memory', `${kind}: ${connections} connections, RSS +${count(after.rss - before.rss)} B = ${count(rssPerConn)} B each`)
    return { rssPerConn, heapPerConn, before, after }
  } finally {
    await fleet.stop()
    await server.stop()
  }
}
