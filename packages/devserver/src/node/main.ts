/**
 * One node as a process: `node dist/node/main.js --id n1 --port 0 --store ipc --secret s`, or `lifeline node …`
 * (the CLI calls runNode). The process contract the supervisor relies on:
 * - prints `lifeline node <id> listening on ws://<host>:<port>` once listening, and, when forked,
 *   sends `{ type: 'ready', id, port }` over IPC;
 * - adopts the connections the supervisor's balancer hands over the IPC channel (node/handoff.ts);
 * - takes its network faults over that channel, `{ lifeline: 'faults', kind: 'set', … }` (node/faults.ts);
 * - reports its counters over that channel once a second, `{ lifeline: 'stats', … }` (node/stats.ts);
 * - SIGTERM (or SIGINT) → drain (1012 to every client) → exit 0;
 * - the IPC channel closes (the supervisor died) → exit at once, so no node outlives its cluster.
 */
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { openStore } from '../store/open.js'
import { randomSecret } from '../security/token.js'
import { parseNodeArgs } from './args.js'
import { createNode, type LifelineNode } from './node.js'
import { acceptHandoffs } from './handoff.js'
import { acceptFaults } from './faults.js'
import { reportStats } from './stats.js'

export async function runNode(argv: string[]): Promise<LifelineNode> {
  const args = parseNodeArgs(argv)
  if (args.jwtPublicKeyFile !== undefined && args.options.auth) args.options.auth.jwt.publicKey = readFileSync(args.jwtPublicKeyFile, 'utf8')
  if (process.send) {
    // Registered first: a supervisor that dies while we start must not leave us running.
    process.once('disconnect', () => process.exit(1))
  }
  const store = await openStore(args.store)
  if (!args.secret && args.store !== 'memory') {
    console.error('lifeline node: no --secret or LIFELINE_SECRET; using a random one, so tokens will not resume on other nodes')
  }
  const node = await createNode({
    ...args.options,
    ...(args.id ? { id: args.id } : {}),
    store,
    secret: args.secret ?? randomSecret(),
    port: args.port,
    host: args.host,
    log: (line) => console.error(line),
  })
  console.log(`lifeline node ${node.id} listening on ${node.url}`)
  // A supervisor (lifeline dev) says this once for the whole cluster.
  if (!process.send && !args.options.auth) console.error('lifeline node: no --jwt-secret or --jwt-public-key: open, any client may connect and read or write any topic')
  if (process.send) acceptHandoffs(node)
  if (process.send) acceptFaults(node.faults)
  if (process.send) reportStats(node.stats, () => node.connections)
  process.send?.({ type: 'ready', id: node.id, port: node.port })

  let stopping = false
  const stop = async (): Promise<void> => {
    if (stopping) return
    stopping = true
    await node.drain()
    await node.close()
    await store.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop())
  process.on('SIGINT', () => void stop())
  return node
}

const entry = process.argv[1]
if (entry && import.meta.url === pathToFileURL(entry).href) {
  runNode(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`lifeline node: ${(e as Error)?.message ?? String(e)}`)
    process.exit(2)
  })
}
