/**
 * Presence: which users are in which topic, by session. A session subscribed to a topic is present in it under
 * its user (its token's `sub`); a user is present while at least one of their sessions is. Changes a reader can
 * watch are user-level: a user's first session joining a topic, and its last one leaving it, appended to the
 * topic's presence log (`presenceTopic`) as `{ user, joined }` in the same atomic step as the change.
 *
 * Why by session, not by connection: a session that resumes on another node after a failover is the same
 * session, still present, so nobody sees it leave and join again. Presence ends with the session itself (its
 * TTL), or when it unsubscribes. Stores check that every session they list is still live, so the list is exact;
 * the leave events of an expired session come with the store's next sweep.
 *
 * `PresenceBook` is the memory store's bookkeeping (the Redis store keeps the same rules in Lua,
 * redis-backend.ts); pure: sessions' liveness is asked of the caller.
 */
import type { PresenceMode, PresenceUser } from './types.js'

/** The store topic of `topic`'s presence events. `@` keeps it out of every client's reach (codes.ts isReservedTopic). */
export function presenceTopic(topic: string): string {
  return `@presence:${topic}`
}

/** One user-level change, to append to `presenceTopic(topic)` as `{ user, joined }`. */
export interface PresenceChange {
  topic: string
  user: string
  joined: boolean
}

interface TopicEntries {
  /** session → its user. */
  sessions: Map<string, string>
  /** user → how many of `sessions` are theirs. */
  users: Map<string, number>
}

export class PresenceBook {
  private readonly topics = new Map<string, TopicEntries>()
  /** session → the topics it is present in. */
  private readonly sessions = new Map<string, Set<string>>()

  constructor(private readonly live: (session: string) => boolean) {}

  update(session: string, user: string, topics: string[], mode: PresenceMode): PresenceChange[] {
    const out: PresenceChange[] = []
    const mine = this.sessions.get(session)
    if (mode === 'remove') {
      for (const topic of topics) this.remove(topic, session, out)
      return out
    }
    if (mode === 'set' && mine) {
      const wanted = new Set(topics)
      for (const topic of [...mine]) if (!wanted.has(topic)) this.remove(topic, session, out)
    }
    for (const topic of topics) this.add(topic, session, user, out)
    return out
  }

  list(topic: string, out: PresenceChange[]): PresenceUser[] {
    this.purge(topic, out)
    const users = this.topics.get(topic)?.users ?? new Map<string, number>()
    return [...users].map(([user, sessions]) => ({ user, sessions })).sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0))
  }

  /** Every session that is no longer live leaves every topic. */
  sweep(): PresenceChange[] {
    const out: PresenceChange[] = []
    for (const [session, topics] of [...this.sessions]) {
      if (this.live(session)) continue
      for (const topic of [...topics]) this.remove(topic, session, out)
    }
    return out
  }

  /**
   * Not purged first (that would cost a scan of the topic per join): an expired session not yet swept still
   * counts for events, so its user's next session joining is no event, and its leave is none either; the list,
   * which is purged, is exact.
   */
  private add(topic: string, session: string, user: string, out: PresenceChange[]): void {
    const had = this.topics.get(topic)?.sessions.get(session)
    if (had === user) return
    if (had !== undefined) this.remove(topic, session, out) // the same session under another user
    let entries = this.topics.get(topic)
    if (!entries) this.topics.set(topic, (entries = { sessions: new Map(), users: new Map() }))
    const count = entries.users.get(user) ?? 0
    entries.sessions.set(session, user)
    entries.users.set(user, count + 1)
    let mine = this.sessions.get(session)
    if (!mine) this.sessions.set(session, (mine = new Set()))
    mine.add(topic)
    if (count === 0) out.push({ topic, user, joined: true })
  }

  private remove(topic: string, session: string, out: PresenceChange[]): void {
    const entries = this.topics.get(topic)
    const user = entries?.sessions.get(session)
    if (!entries || user === undefined) return
    entries.sessions.delete(session)
    const mine = this.sessions.get(session)
    mine?.delete(topic)
    if (mine?.size === 0) this.sessions.delete(session)
    const count = (entries.users.get(user) ?? 1) - 1
    if (count > 0) entries.users.set(user, count)
    else {
      entries.users.delete(user)
      out.push({ topic, user, joined: false })
    }
    if (entries.sessions.size === 0) this.topics.delete(topic)
  }

  /** Entries of sessions that ended leave first, so counts (and the join and leave events) are of live sessions. */
  private purge(topic: string, out: PresenceChange[]): void {
    const entries = this.topics.get(topic)
    if (!entries) return
    for (const session of [...entries.sessions.keys()]) if (!this.live(session)) this.remove(topic, session, out)
  }
}
