/**
 * Row "frozen node": SIGSTOP of one of 3 nodes (half-open sockets), default heartbeat. Target (issue 6): its
 * clients resumed elsewhere within 5 s; applied to the slowest client (max), since "its clients" means all.
 * The window is 10 s (8 s quick): long enough to see a heartbeat-driven resume; the baseline has no heartbeat
 * and is given 10 s (6 s quick) to show that it never notices.
 */
import { faultRow } from '../lib/fault-row.js'
import { faultSizes } from '../lib/fault-sizes.js'

export function run({ quick }) {
  const sizes = faultSizes(quick)
  return faultRow({ row: 'frozen', fault: 'freeze', signal: 'SIGSTOP', stat: 'max', targetMs: 5000, dupTarget: true, ...sizes, windowMs: quick ? 8_000 : 10_000, baselineWindowMs: quick ? 6_000 : 10_000 })
}
