/** In-process nodes and raw clients for the node tests, closed after each test so no socket or timer leaks into the next. */
import { afterEach } from 'vitest'
import type { Subscribed } from '@lifeline/protocol'
import { createNode, type LifelineNode } from '../../src/node/node.js'
import type { NodeOptions } from '../../src/node/options.js'
import type { Store } from '../../src/store/types.js'
import { RawClient } from '../fixtures/raw-client.js'

export interface Nodes {
  /** A node on 127.0.0.1, port 0, with the file's defaults overridden by `options`. */
  start(options?: NodeOptions): Promise<LifelineNode>
  /** A raw client connected to `to` (a node, or a URL of its own). */
  connect(to: LifelineNode | string): Promise<RawClient>
}

/** Registers the afterEach that closes every client, then every node, this test made. */
export function useNodes(defaults: NodeOptions = {}): Nodes {
  const nodes: LifelineNode[] = []
  const clients: RawClient[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close()
    await Promise.all(nodes.splice(0).map((n) => n.close()))
  })
  return {
    async start(options = {}) {
      const node = await createNode({ ...defaults, ...options })
      nodes.push(node)
      return node
    },
    async connect(to) {
      const client = await RawClient.connect(typeof to === 'string' ? to : to.url)
      clients.push(client)
      return client
    },
  }
}

export interface ResumeAt {
  /** The topic, filled with `messages` appends (data 1, 2, 3 …) before the client connects. */
  topic: string
  messages: number
  /** The position the client resumes from; `epoch` defaults to the log's own (read from the store). */
  offset: number
  epoch?: string
}

/** A node on `store` and a client resuming `topic` at a position: the resume-gap tests differ only in these numbers. */
export async function resumeAt(nodes: Nodes, store: Store, at: ResumeAt): Promise<{ c: RawClient; sub: Subscribed }> {
  const node = await nodes.start({ store })
  for (let i = 1; i <= at.messages; i++) await store.append(at.topic, i)
  const epoch = at.epoch ?? (await store.head(at.topic)).epoch
  const c = await nodes.connect(node)
  await c.hello({ [at.topic]: { offset: at.offset, epoch } })
  const sub = await c.next<Subscribed>((f) => f.t === 'subscribed')
  return { c, sub }
}
