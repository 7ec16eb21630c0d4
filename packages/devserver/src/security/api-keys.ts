/**
 * API keys: what an app's backend presents to the HTTP API (`Authorization: Bearer <key>`). Keys come from
 * `createNode({ apiKeys })`, `--api-key KEY` (repeatable) or `LIFELINE_API_KEYS` (comma-separated); several at
 * once so a key can be rotated without downtime (add the new one, move the backends, drop the old one).
 *
 * Compared in constant time: each candidate and each key are hashed (SHA-256) and the digests compared with
 * timingSafeEqual, so neither a key's content nor its length shows in how long a refusal takes. Every key is
 * compared, whichever matches, for the same reason.
 */
import { createHash, timingSafeEqual } from 'node:crypto'

/** Keys shorter than this are refused at start: a key is a password for every topic. */
export const MIN_API_KEY_LENGTH = 16

/** `LIFELINE_API_KEYS` → keys: comma-separated, spaces around each ignored, empty entries dropped. */
export function parseApiKeys(text: string | undefined): string[] {
  return (text ?? '').split(',').map((k) => k.trim()).filter(Boolean)
}

/** A matcher for `keys` (checked here: TypeError naming the problem). No keys: nothing matches. */
export function apiKeyMatcher(keys: readonly string[]): (presented: string) => boolean {
  for (const key of keys) {
    if (typeof key !== 'string' || key.length < MIN_API_KEY_LENGTH) {
      throw new TypeError(`apiKeys: every key must be a string of at least ${MIN_API_KEY_LENGTH} characters (e.g. \`openssl rand -hex 32\`)`)
    }
  }
  const digests = keys.map(digest)
  return (presented) => {
    const given = digest(presented)
    let match = false
    for (const d of digests) match = timingSafeEqual(d, given) || match
    return match
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}
