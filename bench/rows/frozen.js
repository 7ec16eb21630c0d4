/**
 * Row "frozen node": SIGSTOP of one of 3 nodes (half-open sockets), default heartbeat. Target: its
 * clients resumed elsewhere within 5 s; applied to the slowest client (max), since "its clients" means all.
 * The window is 10 s (5.5 s quick, plus the settle wait in which late resumes still count): long enough to
 * see a heartbeat-driven resume; the baseline has no heartbeat and gets the same window to show it never notices.
 */
import { faultRow } from '../lib/fault-row.js'
import { faultSizes } from '../lib/fault-sizes.js'

/** @param {{ quick: boolean }} options */
export function run({ quick }) {
  const sizes = faultSizes(quick)
  return faultRow({ row: 'frozen', fault: 'freeze', signal: 'SIGSTOP', stat: 'max', targetMs: 5000, dupTarget: true, ...sizes, windowMs: quick ? 5_500 : 10_000, baselineWindowMs: quick ? 5_500 : 10_000 })
}
