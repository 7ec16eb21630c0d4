/**
 * The Map subset a connection uses for its subscriptions, for the usual case of one entry: it is held in fields
 * until a second comes, and from then on in a Map. Most connections subscribe to one topic or a few, and a Map's
 * table alone is 150 bytes (Node 20, 8-byte pointers) that every idle connection would carry (the memory row).
 */
export class SmallMap<K, V> {
  private map: Map<K, V> | undefined
  /** The one entry, while there is no Map and `held`. */
  private held = false
  private key: K | undefined
  private value: V | undefined

  get size(): number {
    return this.map ? this.map.size : this.held ? 1 : 0
  }

  has(key: K): boolean {
    return this.map ? this.map.has(key) : this.held && this.key === key
  }

  get(key: K): V | undefined {
    if (this.map) return this.map.get(key)
    return this.held && this.key === key ? this.value : undefined
  }

  set(key: K, value: V): this {
    if (this.map) this.map.set(key, value)
    else if (!this.held || this.key === key) {
      this.held = true
      this.key = key
      this.value = value
    } else {
      // The second key: a Map from now on, in insertion order like any Map.
      this.map = new Map([[this.key as K, this.value as V]])
      this.map.set(key, value)
      this.drop()
    }
    return this
  }

  delete(key: K): boolean {
    if (this.map) return this.map.delete(key)
    if (!this.held || this.key !== key) return false
    this.drop()
    return true
  }

  keys(): IterableIterator<K> {
    if (this.map) return this.map.keys()
    return (this.held ? [this.key as K] : []).values()
  }

  private drop(): void {
    this.held = false
    this.key = undefined
    this.value = undefined
  }
}
