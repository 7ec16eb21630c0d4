/**
 * `--store <spec>` → a Store. One place decides what a spec means, for the node process and the CLI alike.
 *   memory      an in-process MemoryStore (one node on its own; a cluster shares the supervisor's instead)
 *   ipc         the supervisor's store over this process's IPC channel (what `lifeline dev` forks nodes with)
 *   redis://…   a Redis server (store/redis*.ts)
 */
import { IpcStore } from './ipc-client.js'
import { MemoryStore, type MemoryStoreOptions } from './memory.js'
import type { Store } from './types.js'

export interface OpenStoreOptions {
  /** For `memory`: retention and clock. */
  memory?: MemoryStoreOptions
}

export async function openStore(spec: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (spec === 'memory') return new MemoryStore(options.memory)
  if (spec === 'ipc') return new IpcStore()
  if (spec.startsWith('redis://') || spec.startsWith('rediss://')) {
    // Loaded on demand: memory/ipc nodes (every `lifeline dev` node) then start without loading the redis client.
    const { createRedisStore } = await import('./redis-store.js')
    return createRedisStore(spec, { retention: options.memory?.retention })
  }
  throw new Error(`unknown store ${JSON.stringify(spec)}: use "memory", "ipc" or a redis:// URL`)
}
