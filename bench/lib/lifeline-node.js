/**
 * One Lifeline node in its own process (createNode, the library form an app embeds), for the rows that
 * measure a single node: throughput, memory, catch-up. `store`: 'memory' (a MemoryStore in this process) or a
 * redis:// URL. Started with --expose-gc by the memory row, so `memory` reports live bytes after a full GC.
 *
 * The per-connection rate limit is raised for the bench: it guards against a flooding client, and here one
 * trusted publisher pushes thousands of messages a second on purpose. Every other option keeps its default.
 */
import { serve } from './proc.js'

const dev = await import('@lifeline/devserver')
const spec = process.env.BENCH_STORE ?? 'memory'
const store = spec === 'memory' ? new dev.MemoryStore() : await dev.openStore(spec)
const node = await dev.createNode({ store, port: 0, host: '127.0.0.1', rateLimit: { perSecond: 1e9, burst: 1e9 } })

/** createNode's handle names its address one of these ways; read whichever this build has. */
function port() {
  if (typeof node.port === 'number') return node.port
  if (typeof node.url === 'string') return Number(new URL(node.url).port)
  const addr = node.address?.() ?? node.server?.address?.()
  if (addr && typeof addr === 'object') return addr.port
  throw new Error(`cannot find the port of createNode's result (keys: ${Object.keys(node).join(', ')})`)
}

serve({
  info: () => ({ port: port(), pid: process.pid }),
  memory: () => {
    globalThis.gc?.()
    globalThis.gc?.()
    return process.memoryUsage()
  },
})
