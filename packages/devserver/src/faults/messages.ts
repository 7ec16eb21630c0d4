/**
 * The supervisor ↔ node process messages for network faults, on the fork() channel (beside the handoffs,
 * balancer/handoff.ts, and the stats reports). The supervisor always sends a node's whole state, so a message
 * never depends on the one before it, and a node started later gets the same one.
 *
 *   supervisor → node  { lifeline:'faults', kind:'set', serial, state }      state: FaultState (options.ts)
 *   node → supervisor  { lifeline:'faults', kind:'applied', serial }         shaping from now on
 *                      { lifeline:'faults', kind:'refused', serial, error }  could not be read (a bug: the supervisor checks first)
 */
import type { FaultState } from './options.js'

export const FAULTS_TAG = 'faults'

export type FaultsToNode = { lifeline: typeof FAULTS_TAG; kind: 'set'; serial: number; state: FaultState }
export type FaultsFromNode =
  | { lifeline: typeof FAULTS_TAG; kind: 'applied'; serial: number }
  | { lifeline: typeof FAULTS_TAG; kind: 'refused'; serial: number; error: string }

export function isFaultsMessage(value: unknown): value is FaultsToNode | FaultsFromNode {
  const v = value as { lifeline?: unknown; serial?: unknown } | null
  return typeof v === 'object' && v !== null && v.lifeline === FAULTS_TAG && typeof v.serial === 'number'
}
