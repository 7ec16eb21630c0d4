/**
 * Errors of the supervisor and its admin API, each with a stable code (the admin API sends the same codes in
 * `{ error: { code, message } }`). These are not protocol errors (packages/protocol): no client ever sees them.
 */
export const ClusterErrorCode = {
  /** No node has this id (it was never started, or was removed). */
  NODE_NOT_FOUND: 'NODE_NOT_FOUND',
  /** The operation needs a live process and this node's has exited (use restart to start it again). */
  NODE_NOT_RUNNING: 'NODE_NOT_RUNNING',
  /** The node process exited or failed to spawn before it said it was listening; the message has its output. */
  NODE_START_FAILED: 'NODE_START_FAILED',
  /** The node process did not say it was listening within `startTimeoutMs`. */
  NODE_START_TIMEOUT: 'NODE_START_TIMEOUT',
  /** The cluster was stopped; start a new one. */
  CLUSTER_STOPPED: 'CLUSTER_STOPPED',
  /** An option or argument has a value the cluster cannot use; the message names it and what is allowed. */
  BAD_OPTION: 'BAD_OPTION',
} as const
export type ClusterErrorCode = (typeof ClusterErrorCode)[keyof typeof ClusterErrorCode]

export class ClusterError extends Error {
  override readonly name = 'ClusterError'
  constructor(
    readonly code: ClusterErrorCode,
    message: string,
  ) {
    super(message)
  }
}
