/**
 * Who a connection's client is, once its token was verified (by the adapter: security/jwt.ts verifies with
 * `jose`, which is async, and hands the result in as a `verified` input), and what that lets it do. Pure.
 *
 * Topic patterns (the token's `topics` claim): a pattern is a topic name, or a prefix followed by `*`, which
 * matches any suffix (`room:*` matches `room:1` and `room:` but not `room`; `*` alone matches every topic).
 * Without a `topics` claim every topic is allowed. With one, a list it leaves out allows nothing (a token
 * naming only what it may publish may subscribe to nothing): a narrower token never widens by omission.
 * The session's own `@inbox` is always allowed to subscribe (it is the session's own, and never shared).
 */
import { INBOX_TOPIC } from '@lifeline/protocol'

export interface TopicRights {
  subscribe?: string[]
  publish?: string[]
}

export interface Identity {
  /** The token's `sub`: the user id, stamped as `from` on what the session publishes and listed in presence. */
  user: string
  /** The token's `exp`, epoch seconds, if it has one: the connection closes (4440) once it passes. */
  exp?: number
  /** The `topics` claim; undefined: every topic. */
  topics?: TopicRights
  /** Every claim of the token, as the connect webhook gets them. */
  claims: Record<string, unknown>
}

/** A token's verification, as the adapter reports it: the identity, or why it was refused (shown to the client). */
export type Verified = { ok: true; identity: Identity } | { ok: false; reason: string }

/** Whether `patterns` allow `topic` (see the file's doc). */
export function allows(patterns: readonly string[] | undefined, topic: string): boolean {
  if (!patterns) return false
  for (const p of patterns) {
    if (p.endsWith('*') ? topic.startsWith(p.slice(0, -1)) : topic === p) return true
  }
  return false
}

/** Whether this client may subscribe to (or ask history or presence of) `topic`. No identity: no auth, anything. */
export function maySubscribe(identity: Identity | undefined, topic: string): boolean {
  if (!identity?.topics || topic === INBOX_TOPIC) return true
  return allows(identity.topics.subscribe, topic)
}

export function mayPublish(identity: Identity | undefined, topic: string): boolean {
  if (!identity?.topics) return true
  return allows(identity.topics.publish, topic)
}

/** Whether the token's `exp` has passed at `now` (epoch ms). */
export function expired(identity: Identity | undefined, now: number): boolean {
  return identity?.exp !== undefined && now >= identity.exp * 1000
}
