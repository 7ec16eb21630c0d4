/** Row "failover": SIGKILL of one of 3 nodes under load. Target (issue 12): p99 resume ≤ 500 ms at 1,000 clients, 0 lost, 0 dup. */
import { faultRow } from '../lib/fault-row.js'
import { faultSizes } from '../lib/fault-sizes.js'

/** @param {{ quick: boolean }} options */
export function run({ quick }) {
  return faultRow({ row: 'failover', fault: 'kill', signal: 'SIGKILL', stat: 'p99', targetMs: 500, dupTarget: true, socketio: true, ...faultSizes(quick) })
}
