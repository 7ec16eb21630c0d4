/**
 * One Lifeline node in its own process (createNode, the library form an app embeds), for the rows that
 * measure a single node: throughput, memory, catch-up, faults. `store`: 'memory' (a MemoryStore in this process) or a
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

serve({
  info: () => ({ port: node.port, pid: process.pid }),
  // Network faults of this node's links (the faults row): what cluster.impair hands a node process, applied here.
  impair: (/** @type {import('@lifeline/devserver').ImpairOptions} */ options) => node.faults.impair(options),
  heal: () => node.faults.heal(),
  memory: () => {
    globalThis.gc?.()
    globalThis.gc?.()
    return process.memoryUsage()
  },
})
