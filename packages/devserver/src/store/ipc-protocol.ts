/**
 * The messages between a node process (IpcStore) and the supervisor that holds the store (hostIpcStore),
 * over Node's IPC channel (`fork()`; JSON serialisation). Every message carries `lifeline: 'store'` so the
 * same channel can carry the supervisor's own messages (`ready`, …): each side ignores what is not its own.
 *
 *   node → host  { lifeline:'store', kind:'call', id, method, args }    one Store method call
 *                { lifeline:'store', kind:'sub', topic }               this node wants live messages of topic
 *                { lifeline:'store', kind:'unsub', topic }
 *   host → node  { lifeline:'store', kind:'result', id, ok:true, value } | { …, ok:false, error }
 *                { lifeline:'store', kind:'live', message }            one per node per message, not per client
 */
import type { StoredMessage } from './types.js'

export const IPC_TAG = 'store'

/** Store methods callable over IPC (subscribe is its own message kind; close is local). */
export const IPC_METHODS = [
  'createSession', 'claimSession', 'touchSession', 'apply', 'append', 'head', 'read',
  'appendOnce', 'updatePresence', 'listPresence', 'touchNode', 'nodes',
] as const
export type IpcMethod = (typeof IPC_METHODS)[number]

export type NodeToHost =
  | { lifeline: typeof IPC_TAG; kind: 'call'; id: number; method: IpcMethod; args: unknown[] }
  | { lifeline: typeof IPC_TAG; kind: 'sub' | 'unsub'; topic: string }

export type HostToNode =
  | { lifeline: typeof IPC_TAG; kind: 'result'; id: number; ok: true; value: unknown }
  | { lifeline: typeof IPC_TAG; kind: 'result'; id: number; ok: false; error: string }
  | { lifeline: typeof IPC_TAG; kind: 'live'; message: StoredMessage }

/**
 * Either end of an IPC channel: a ChildProcess (supervisor side) or `process` in a forked child. Methods,
 * not function properties, so both Node types fit without casts.
 */
export interface IpcEndpoint {
  send?(message: unknown, callback?: (error: Error | null) => void): boolean
  on(event: 'message', listener: (message: unknown) => void): unknown
  on(event: 'disconnect', listener: () => void): unknown
  off(event: 'message', listener: (message: unknown) => void): unknown
  readonly connected?: boolean
}

export function isIpcMessage(value: unknown): value is { lifeline: typeof IPC_TAG; kind: string } {
  return typeof value === 'object' && value !== null && (value as { lifeline?: unknown }).lifeline === IPC_TAG
}
