/**
 * Where a new session (no `sid` yet) goes: the node with the fewest live connections, ties broken round-robin.
 * Why least connections rather than plain round-robin: after a node restarts it is empty, and round-robin would
 * keep the others overloaded forever; least connections fills the fresh node first. The round-robin tie-break
 * keeps a burst of simultaneous arrivals (all counts equal) spread one per node instead of all on the first.
 */
export class LeastConnections {
  private turn = 0

  /** `candidates`: routable nodes with their current connection count (pending upgrades included). */
  pick(candidates: readonly { id: string; connections: number }[]): string | undefined {
    if (candidates.length === 0) return undefined
    const least = Math.min(...candidates.map((c) => c.connections))
    const tied = candidates.filter((c) => c.connections === least)
    const chosen = tied[this.turn % tied.length]
    this.turn = (this.turn + 1) % 1_000_000
    return chosen?.id
  }
}
