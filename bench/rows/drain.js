/** Row "drain": SIGTERM (cluster.drain) of one of 3 nodes under load. Target: p99 ≤ 300 ms, 0 lost. */
import { faultRow } from '../lib/fault-row.js'
import { faultSizes } from '../lib/fault-sizes.js'

/** @param {{ quick: boolean }} options */
export function run({ quick }) {
  return faultRow({ row: 'drain', fault: 'drain', signal: 'SIGTERM', stat: 'p99', targetMs: 300, dupTarget: false, socketio: true, ...faultSizes(quick) })
}
