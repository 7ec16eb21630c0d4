// The samples the page has read from GET /_lifeline/api/stats?after=…, aligned on one time axis: every node has
// a value (or null) at every time, so a node added later, or removed, lines up with the others.
import { WINDOW_S } from './charts.js'

const KEYS = ['connections', 'messagesIn', 'messagesOut', 'resumes']
/** A little more than a chart shows, so its left edge is never empty while the cluster has been up that long. */
const MAX_SAMPLES = WINDOW_S + 10

export class History {
  constructor() {
    this.at = []
    this.nodes = new Map()
  }

  /** The newest sample's time: what the next request asks `after`. */
  get last() {
    return this.at.length ? this.at[this.at.length - 1] : 0
  }

  /** A stats answer's samples (`at`, `nodes: { id: { connections: [], … } }`). */
  add({ at, nodes }) {
    if (!at.length) return
    const before = this.at.length
    this.at.push(...at)
    for (const [id, columns] of Object.entries(nodes)) {
      if (!this.nodes.has(id)) this.nodes.set(id, Object.fromEntries(KEYS.map((k) => [k, new Array(before).fill(null)])))
      const mine = this.nodes.get(id)
      for (const k of KEYS) mine[k].push(...(columns[k] ?? at.map(() => null)))
    }
    for (const [id, mine] of this.nodes) if (!(id in nodes)) for (const k of KEYS) mine[k].push(...at.map(() => null))
    const drop = this.at.length - MAX_SAMPLES
    if (drop > 0) {
      this.at.splice(0, drop)
      for (const mine of this.nodes.values()) for (const k of KEYS) mine[k].splice(0, drop)
    }
    // A node with nothing left in the window (removed long ago) is forgotten.
    for (const [id, mine] of this.nodes) if (mine.connections.every((v) => v === null)) this.nodes.delete(id)
  }

  /** Seconds the samples span (at most a chart's window). */
  get seconds() {
    return this.at.length > 1 ? Math.round((this.at[this.at.length - 1] - this.at[0]) / 1_000) : 0
  }

  column(id, key) {
    return this.nodes.get(id)?.[key] ?? this.at.map(() => null)
  }

  /** Per sample, the sum over nodes that had a value (null where none had). */
  total(key) {
    return this.at.map((_, i) => {
      let sum = null
      for (const mine of this.nodes.values()) if (mine[key][i] !== null) sum = (sum ?? 0) + mine[key][i]
      return sum
    })
  }

  /** The node's newest value of `key`, or null when its newest sample has none (frozen, dead). */
  latest(id, key) {
    const column = this.nodes.get(id)?.[key]
    return column && column.length ? column[column.length - 1] : null
  }
}
