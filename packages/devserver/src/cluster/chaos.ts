/**
 * `--chaos 10s`: every interval, SIGKILL one random live node and start it again, so an app under development
 * meets node deaths all day long instead of once in production.
 */
import type { Cluster } from './types.js'

/** Starts the chaos loop; returns the function that stops it. */
export function startChaos(cluster: Cluster, intervalMs: number, log: (line: string) => void): () => void {
  let busy = false
  let stopped = false
  const timer = setInterval(() => {
    if (busy) return // the previous victim is still coming back
    const candidates = cluster.nodes.filter((n) => n.status === 'up')
    const victim = candidates[Math.floor(Math.random() * candidates.length)]
    if (!victim) return
    busy = true
    log(`[chaos] killing ${victim.id} (pid ${victim.pid}, ${victim.connections} connections)`)
    cluster
      .kill(victim.id)
      .then(() => cluster.restart(victim.id))
      .then((node) => log(`[chaos] ${node.id} is back (pid ${node.pid})`))
      .catch((e: Error) => stopped || log(`[chaos] ${e.message}`)) // a restart cut short by stop() is no news
      .finally(() => (busy = false))
  }, intervalMs)
  timer.unref()
  return () => {
    stopped = true
    clearInterval(timer)
  }
}
