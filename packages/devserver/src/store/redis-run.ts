/**
 * EVALSHA with the scripts loaded up front, and EVAL as the fallback.
 *
 * Why load on every (re)connect rather than only falling back on NOSCRIPT: a NOSCRIPT retry is a second round
 * trip, so a command issued later (whose script was cached) could run before it, and the store relies on the
 * commands of one connection running in the order they were issued (see redis-live.ts, "from now on").
 * `load()` is called from the client's `ready` event, so SCRIPT LOAD is the first thing written on a fresh
 * connection (a restarted Redis has an empty script cache) and every EVALSHA after it finds its script.
 */
import { createHash } from 'node:crypto'

/** The one node-redis method this needs, so the runner does not depend on the client's generic types. */
export interface RedisLike {
  sendCommand(args: string[]): Promise<unknown>
}

export class ScriptRunner {
  readonly #client: RedisLike
  readonly #sha = new Map<string, string>()

  constructor(client: RedisLike, scripts: string[]) {
    this.#client = client
    for (const s of scripts) this.#sha.set(s, createHash('sha1').update(s).digest('hex'))
  }

  /** Send SCRIPT LOAD for every script. Errors are left to the commands that follow (they fall back to EVAL). */
  load(): void {
    for (const s of this.#sha.keys()) this.#client.sendCommand(['SCRIPT', 'LOAD', s]).catch(() => undefined)
  }

  async run(script: string, keys: string[], args: string[]): Promise<unknown> {
    const sha = this.#sha.get(script)
    const tail = [String(keys.length), ...keys, ...args]
    if (!sha) return this.#client.sendCommand(['EVAL', script, ...tail])
    try {
      return await this.#client.sendCommand(['EVALSHA', sha, ...tail])
    } catch (e) {
      // Only if someone ran SCRIPT FLUSH on a live connection: correct, if slower and not order-preserving.
      if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e
      return this.#client.sendCommand(['EVAL', script, ...tail])
    }
  }
}
