/**
 * The client's reconnect backoff: full jitter, uniform in [0, min(maxMs, minMs · factor^attempt)). Defined once in
 * @lifeline/protocol (src/backoff.ts), where the devserver's restart and Redis reconnect delays use the same
 * ceiling; re-exported here because `backoffDelay` and `Backoff` are part of the SDK's public API.
 */
export { backoffDelay, type Backoff } from '@lifeline/protocol'
