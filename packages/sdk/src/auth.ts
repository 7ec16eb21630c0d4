/**
 * When to refresh the user's token: before its `exp`, by a quarter of the time it has left and at most 30 s,
 * so a 1-hour token is refreshed 30 s early and a 4-second one 1 s early. 30 s covers a slow token endpoint and
 * a few seconds of clock skew between the browser and the server; a quarter keeps short tokens (tests, tight
 * security) from being refreshed at once, over and over. The token is only read (its `exp`), never verified:
 * that is the server's job. Null when it has no `exp` (or is not a JWT): nothing to refresh for.
 */
export function refreshIn(token: string, now: number): number | null {
  let exp: unknown
  try {
    exp = (JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown }).exp
  } catch {
    return null
  }
  if (typeof exp !== 'number') return null
  const left = exp * 1000 - now
  return Math.max(0, left - Math.min(30_000, left / 4))
}
