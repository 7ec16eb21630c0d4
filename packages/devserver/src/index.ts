/**
 * @lifeline/devserver: the node (as a library and a process), the stores, and the local cluster.
 */
export { createNode, type LifelineNode, type Health, type NodeStatus } from './node/node.js'
export { NODE_DEFAULTS, type NodeOptions, type MessageContext, type MessageHandler, type AuthorizeHook } from './node/options.js'
export type { RateLimit } from './node/rate-limit.js'
export { runNode } from './node/main.js'
export { parseNodeArgs, NODE_USAGE } from './node/args.js'
export { MemoryStore, type MemoryStoreOptions } from './store/memory.js'
export { IpcStore, type IpcStoreOptions } from './store/ipc-client.js'
export { hostIpcStore } from './store/ipc-host.js'
export type { IpcEndpoint } from './store/ipc-protocol.js'
export { openStore, type OpenStoreOptions } from './store/open.js'
export { DEFAULT_RETENTION } from './store/retention.js'
export { inboxTopic } from './store/inbox.js'
export type * from './store/types.js'
export { signSession, verifyToken, randomSecret, newSessionId } from './security/token.js'
export * from './cluster/index.js'
