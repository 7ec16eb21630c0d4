/**
 * The node's end of the balancer's handoff (balancer/handoff.ts has the protocol and the why): connections
 * the supervisor passes over the IPC channel are adopted by the node, and what becomes of each is reported back.
 */
import type { Socket } from 'node:net'
import { HANDOFF_TAG, isHandoffMessage, type HandoffFromNode, type HandoffToNode } from '../balancer/handoff.js'
import type { LifelineNode } from './node.js'

export function acceptHandoffs(node: LifelineNode, channel: NodeJS.Process = process): () => void {
  const report = (m: HandoffFromNode): void => {
    // The supervisor may be gone (we exit on disconnect); a report that cannot go matters to no one.
    if (channel.connected) channel.send?.(m)
  }
  const onMessage = (raw: unknown, handle: unknown): void => {
    if (!isHandoffMessage(raw) || raw.kind !== 'adopt') return
    const { serial, head } = raw as HandoffToNode
    // A handle the sender closed before it went out arrives as nothing: the connection is gone already.
    if (!handle) return report({ lifeline: HANDOFF_TAG, kind: 'closed', serial })
    const taken = node.adopt(handle as Socket, Buffer.from(head, 'latin1'), {
      identified: (session) => report({ lifeline: HANDOFF_TAG, kind: 'identified', serial, session }),
      closed: () => report({ lifeline: HANDOFF_TAG, kind: 'closed', serial }),
    })
    if (!taken) report({ lifeline: HANDOFF_TAG, kind: 'refused', serial })
  }
  channel.on('message', onMessage)
  return () => void channel.off('message', onMessage)
}
