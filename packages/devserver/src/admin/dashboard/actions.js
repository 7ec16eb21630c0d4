// Every button a node card has: what it is called (its accessible name is `<name> <node id>`), what it does in
// one line, when it applies (disabled otherwise), and the admin request it makes (routes: ../routes.ts).
// Node statuses (cluster/types.ts): starting, up, down, draining, frozen, dead.

const alive = (n) => n.status !== 'dead'

/**
 * The node's network faults as the admin API lists them (`impairment`), or null. `undefined` when the API lists
 * none at all (a cluster without network faults): then `heal` is offered whenever the node is alive.
 */
export function impairmentOf(n) {
  if (!('impairment' in n)) return undefined
  const i = n.impairment
  return i && typeof i === 'object' && Object.keys(i).length > 0 ? i : null
}

/** "300 ± 100 ms · 64 KB/s · blackhole · store: blackhole" */
export function describeImpairment(i) {
  if (!i) return ''
  const parts = []
  if (i.latencyMs || i.jitterMs) parts.push(`${i.latencyMs ?? 0}${i.jitterMs ? ` ± ${i.jitterMs}` : ''} ms`)
  if (i.bandwidthBytesPerSec) parts.push(`${Math.round(i.bandwidthBytesPerSec / 1024)} KB/s`)
  if (i.blackhole) parts.push('blackhole')
  if (i.store?.blackhole) parts.push('store: blackhole')
  if (i.store?.latencyMs) parts.push(`store: ${i.store.latencyMs} ms`)
  return parts.join(' · ') || 'impaired'
}

/** `settings()` gives the impair inputs: { latencyMs, jitterMs, bandwidthBytesPerSec }. */
export function nodeActions(settings) {
  const post = (verb, body) => (n) => ({ method: 'POST', path: `nodes/${encodeURIComponent(n.id)}/${verb}`, body: body?.() })
  return [
    { name: 'kill', group: 'process', does: 'SIGKILL: the process dies at once, as in a crash; its clients reconnect and resume on another node', applies: alive, request: post('kill') },
    { name: 'drain', group: 'process', does: 'SIGTERM, as a deploy does: out of routing, its clients get close 1012 and move at once, then it exits', applies: (n) => alive(n) && n.status !== 'draining', request: post('drain') },
    { name: 'freeze', group: 'process', does: 'SIGSTOP: the process stops with its sockets open (a hung VM); clients notice the silence within the heartbeat timeout', applies: (n) => ['starting', 'up', 'down'].includes(n.status), request: post('freeze') },
    { name: 'thaw', group: 'process', does: 'SIGCONT: a frozen node runs again, finds its clients gone and claims nothing for them', applies: (n) => n.status === 'frozen', request: post('thaw') },
    { name: 'restart', group: 'process', does: 'drain it if it runs, then start a fresh process with the same id', applies: () => true, request: post('restart') },
    { name: 'remove', group: 'process', does: 'drain it if it runs, then forget it: the cluster has one node fewer', applies: () => true, request: (n) => ({ method: 'DELETE', path: `nodes/${encodeURIComponent(n.id)}` }) },
    { name: 'impair', group: 'network', does: 'slow its client links by the latency, jitter and bandwidth set above', applies: alive, request: post('impair', settings) },
    { name: 'blackhole', group: 'network', does: 'stop every byte to and from its clients, sockets left open (half-open): the heartbeat timeout must find it', applies: alive, request: post('impair', () => ({ blackhole: true })) },
    { name: 'cut store', group: 'network', does: 'blackhole its link to the store only: it keeps its clients but can no longer acknowledge anything', applies: alive, request: post('impair', () => ({ store: { blackhole: true } })) },
    { name: 'heal', group: 'network', does: 'remove its network faults', applies: (n) => alive(n) && impairmentOf(n) !== null, request: post('heal') },
  ]
}
