/**
 * The store topic behind a session's `@inbox`. Clients only ever name `@inbox` (the protocol's Topic regex
 * forbids `@` elsewhere), and the node maps it to the caller's own session, so no client can reach another's.
 */
export function inboxTopic(sessionId: string): string {
  return `@inbox:${sessionId}`
}
