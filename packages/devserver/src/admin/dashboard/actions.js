// Every button a node card has, defined once: what it is called (its accessible name is `<name> <node id>`),
// what it does in one line (its tooltip, and the page's legend), when it applies (disabled otherwise), and the
// admin request it makes (routes: ../routes.ts). Node statuses (cluster/types.ts): starting, up, down,
// draining, frozen, dead. `ctx` is what the page knows of the cluster besides the node: { storeKind }.

const alive = (n) => n.status !== 'dead'
/** Listening and not leaving: a node that can take a network fault (a starting one has no links yet). */
const serving = (n) => n.status === 'up' || n.status === 'down'

/** The node's network faults as GET /_lifeline/api/nodes lists them (`impairment`, absent when none), or null. */
export function impairmentOf(n) {
  const i = n.impairment
  return i && typeof i === 'object' && Object.keys(i).length > 0 ? i : null
}

/** "300 ± 100 ms · 64 KB/s · blackhole · store: blackhole" */
export function describeImpairment(i) {
  if (!i) return ''
  const parts = []
  if (i.blackhole) parts.push('blackhole')
  if (i.latencyMs || i.jitterMs) parts.push(`${i.latencyMs ?? 0}${i.jitterMs ? ` ± ${i.jitterMs}` : ''} ms`)
  if (i.bandwidthBytesPerSec) parts.push(`${Math.round(i.bandwidthBytesPerSec / 1024)} KB/s`)
  if (i.store?.blackhole) parts.push('store cut')
  if (i.store?.latencyMs) parts.push(`store +${i.store.latencyMs} ms`)
  return parts.join(' · ') || 'impaired'
}

/** The buttons of the whole cluster, above the cards (their accessible name is `name`). */
export const CLUSTER_ACTIONS = [
  { name: 'add a node', does: 'start one more node with the next id; the balancer routes to it once it is up', request: () => ({ method: 'POST', path: 'nodes' }) },
  { name: 'heal all', does: 'end every network fault: every node’s, and every page’s own (impairPage)', request: () => ({ method: 'POST', path: 'heal' }) },
]

/** `settings()` gives the impair inputs: { latencyMs?, jitterMs?, bandwidthBytesPerSec? }. */
export function nodeActions(settings) {
  const post = (verb, body) => (n) => ({ method: 'POST', path: `nodes/${encodeURIComponent(n.id)}/${verb}`, body: body?.() })
  return [
    { name: 'kill', group: 'process', does: 'SIGKILL: the process dies at once, as in a crash; its clients reconnect and resume on another node', applies: alive, request: post('kill') },
    { name: 'drain', group: 'process', does: 'SIGTERM, as a deploy does: out of routing, its clients get close 1012 and move at once, then it exits', applies: (n) => alive(n) && n.status !== 'draining', request: post('drain') },
    { name: 'freeze', group: 'process', does: 'SIGSTOP: the process stops with its sockets open (a hung VM); clients notice the silence within the heartbeat timeout', applies: (n) => ['starting', 'up', 'down'].includes(n.status), request: post('freeze') },
    { name: 'thaw', group: 'process', does: 'SIGCONT: a frozen node runs again, finds its clients gone and claims nothing for them', applies: (n) => n.status === 'frozen', request: post('thaw') },
    { name: 'restart', group: 'process', does: 'drain it if it runs, then start a fresh process with the same id', applies: () => true, request: post('restart') },
    { name: 'remove', group: 'process', does: 'drain it if it runs, then forget it: the cluster has one node fewer', applies: () => true, request: (n) => ({ method: 'DELETE', path: `nodes/${encodeURIComponent(n.id)}` }) },
    { name: 'impair', group: 'network', does: 'delay its client links by the latency ± jitter (and cap the bandwidth) set above; replaces its current network fault', applies: serving, request: post('impair', settings) },
    { name: 'blackhole', group: 'network', does: 'stop every byte to and from its clients, sockets left open (half-open): the heartbeat timeout must find it', applies: serving, request: post('impair', () => ({ blackhole: true })) },
    {
      name: 'cut store',
      group: 'network',
      does: 'blackhole its link to the store only: it keeps its clients but can acknowledge nothing (STORE_UNAVAILABLE); memory store only',
      // Nodes reach Redis themselves, not through the cluster: the API refuses a store fault there (BAD_OPTION).
      applies: (n, ctx) => serving(n) && ctx.storeKind !== 'redis',
      request: post('impair', () => ({ store: { blackhole: true } })),
    },
    { name: 'heal', group: 'network', does: 'end its network faults: what its links held flows at once, in order', applies: (n) => alive(n) && impairmentOf(n) !== null, request: post('heal') },
  ]
}
