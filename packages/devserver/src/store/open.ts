/**
 * `--store <spec>` → a Store. One place decides what a spec means, for the node process and the CLI alike.
 *   memory      an in-process MemoryStore (one node on its own; a cluster shares the supervisor's instead)
 *   ipc         the supervisor's store (what `lifeline dev` forks nodes with): over the Unix socket named by
 *               LIFELINE_STORE_SOCKET (cluster/store-link.ts), else over this process's fork() channel
 *   redis://…   a Redis server (store/redis*.ts)
 */
import { connect, type Socket } from 'node:net'
import { IpcStore } from './ipc-client.js'
import { socketEndpoint } from './ipc-socket.js'
import { MemoryStore, type MemoryStoreOptions } from './memory.js'
import type { RedisStoreOptions } from './redis-client.js'
import type { RedisStore } from './redis-store.js'
import type { Store } from './types.js'

export interface OpenStoreOptions {
  /** For `memory`: retention and clock. */
  memory?: MemoryStoreOptions
}

export async function openStore(spec: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (spec === 'memory') return new MemoryStore(options.memory)
  if (spec === 'ipc') {
    const path = process.env.LIFELINE_STORE_SOCKET
    return new IpcStore(path ? { channel: socketEndpoint(await connectTo(path)) } : {})
  }
  if (spec.startsWith('redis://') || spec.startsWith('rediss://')) return createRedisStore(spec, { retention: options.memory?.retention })
  throw new Error(`unknown store ${JSON.stringify(spec)}: use "memory", "ipc" or a redis:// URL`)
}

/** The supervisor made the socket before forking this process: it is there, or the node cannot start. */
function connectTo(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path)
    socket.once('connect', () => {
      socket.off('error', reject)
      resolve(socket)
    })
    socket.once('error', (e) => reject(new Error(`store socket ${path}: ${e.message}`)))
  })
}

/**
 * Connect to Redis at `url` (`redis://[user:pass@]host:port[/db]`) and return a Store; options and their defaults
 * are in redis-client.ts. The Redis client is loaded on the first call, not on import: memory and ipc nodes (every
 * `lifeline dev` node) and apps that never use Redis start without it (it costs ~100 ms to load).
 */
export async function createRedisStore(url: string, options: RedisStoreOptions = {}): Promise<RedisStore> {
  const redis = await import('./redis-store.js')
  return redis.createRedisStore(url, options)
}
