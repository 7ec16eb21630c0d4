/**
 * The hooks. Each reads the provider's hub (provider.ts) and counts itself as a user of the client in an
 * effect, so nothing connects during server rendering and the client outlives no component that uses it.
 */
import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react'
import { ErrorCode, LifelineError, type CallOptions, type ClientState, type LifelineClient, type PresenceUser } from '@lifeline/sdk'
import { DEFAULT_TOPIC_LIMIT, type Feed, type TopicState } from './hub.js'
import { useHub } from './provider.js'

export interface UseTopicOptions {
  /** Where the subscription starts: 'latest' (default: live from now), 'earliest', or an offset. See the SDK's subscribe(). */
  from?: 'latest' | 'earliest' | number
  /** Messages kept, the newest; older ones are dropped from the front. Default DEFAULT_TOPIC_LIMIT (100). */
  limit?: number
}

const EMPTY: TopicState<never> = { messages: [], gap: null, status: 'subscribing' }

/**
 * A topic's messages (the newest `limit`), its latest gap, and the subscription's status. Subscribes while
 * mounted. Components of one provider that use the same topic share one subscription and one buffer: `from`
 * applies when the first of them mounts; one that mounts later gets what the buffer holds, then what comes.
 */
export function useTopic<T = unknown>(topic: string, options: UseTopicOptions = {}): TopicState<T> {
  const hub = useHub()
  const limit = Math.max(1, options.limit ?? DEFAULT_TOPIC_LIMIT)
  const from = options.from
  const [feed, setFeed] = useState<Feed<T>>()
  const [version, setVersion] = useState(0)
  useEffect(() => {
    const f = hub.feed<T>(topic, from, limit)
    setFeed(f)
    setVersion(f.version)
    const off = f.listen(() => setVersion(f.version))
    return () => {
      off()
      hub.releaseFeed(f as Feed<never>)
    }
    // `from` starts a subscription: changing it later does not restart one (remount with a `key` to replay).
  }, [hub, topic, limit])
  // Built once per change, not per message: a replay of thousands arrives in far fewer renders.
  return useMemo(() => (feed && feed.topic === topic ? feed.view(limit) : EMPTY), [feed, topic, limit, version])
}

/** 'connecting' (also before the client exists, and during server rendering) · 'open' · 'reconnecting' · 'closed'. */
export function useConnectionState(): ClientState {
  const hub = useHub()
  const subscribe = useCallback((fn: () => void) => hub.onChange(fn), [hub])
  return useSyncExternalStore(subscribe, () => hub.state, () => 'connecting')
}

/** The provider's client, for what no hook covers (history(), sessionId …); undefined until it exists (and on a server). */
export function useLifelineClient<T = unknown>(): LifelineClient<T> | undefined {
  const hub = useHub()
  const subscribe = useCallback((fn: () => void) => hub.onChange(fn), [hub])
  useEffect(() => {
    hub.use()
    return () => hub.unuse()
  }, [hub])
  return useSyncExternalStore(subscribe, () => hub.client as LifelineClient<T> | undefined, () => undefined)
}

/** A publish of this hook's that rejected: its data and why (a LifelineError with a stable `code`). */
export interface FailedPublish<T = unknown> {
  data: T
  error: LifelineError
}

export interface PublishState<T = unknown> {
  /** Publish to the hook's topic; resolves once the server applied it, exactly once (the SDK's publish()). */
  publish: (data: T, options?: CallOptions) => Promise<void>
  /** This hook's publishes not yet settled. */
  pending: number
  /** This hook's publishes that rejected, oldest first, the last MAX_FAILED of them. */
  failed: FailedPublish<T>[]
}

/** How many failed publishes `usePublish` keeps: enough to show and retry, bounded for a page that runs for days. */
export const MAX_FAILED = 100

/**
 * Publishing to `topic`, with this hook's pending count and failures. Unmounting does not cancel anything: a
 * publish already made is delivered (pass a `signal` to withdraw one that was not sent yet).
 */
export function usePublish<T = unknown>(topic: string): PublishState<T> {
  const hub = useHub()
  const [state, setState] = useState<{ pending: number; failed: FailedPublish<T>[] }>({ pending: 0, failed: [] })
  useEffect(() => {
    hub.use()
    return () => hub.unuse()
  }, [hub])
  const publish = useCallback(
    (data: T, options?: CallOptions): Promise<void> => {
      const client = hub.client
      if (!client) return Promise.reject(new LifelineError(ErrorCode.CLIENT_CLOSED, `usePublish(${JSON.stringify(topic)}): the provider has no client (not mounted yet, or unmounted)`))
      setState((s) => ({ ...s, pending: s.pending + 1 }))
      const done = client.publish(topic, data, options)
      done.then(
        () => setState((s) => ({ ...s, pending: s.pending - 1 })),
        (error: LifelineError) => setState((s) => ({ pending: s.pending - 1, failed: [...s.failed, { data, error }].slice(-MAX_FAILED) })),
      )
      return done
    },
    [hub, topic],
  )
  return { publish, pending: state.pending, failed: state.failed }
}

/** Who is in a topic: each user (a token's `sub`) with how many of their sessions are subscribed to it. */
export interface PresenceState {
  /** Sorted by user. `sessions` is as of the last list from the server; joins and leaves between lists are applied. */
  users: PresenceUser[]
  /** 'loading' until the first list, 'live' after it, 'failed' (with `error`) if the server refused it (e.g. FORBIDDEN). */
  status: 'loading' | 'live' | 'failed'
  error?: LifelineError
}

/**
 * Who is in `topic` now, kept current: the list from the SDK's `presence(topic)`, then its `presence` events
 * (a user's first session joining, their last one leaving), and the list again after each reconnect, since the
 * events are live only. Subscribes to the topic while mounted (with presence events), sharing the subscription
 * of a `useTopic` of the same topic: in one component, call `useTopic` first, so its `from` starts it.
 */
export function usePresence(topic: string): PresenceState {
  const hub = useHub()
  const [state, setState] = useState<PresenceState>({ users: [], status: 'loading' })
  useEffect(() => {
    const feed = hub.feed(topic, undefined, 1, true)
    const client = hub.client!
    let users = new Map<string, number>()
    let status: PresenceState['status'] = 'loading'
    let alive = true
    const show = (): void => {
      const list = [...users].map(([user, sessions]) => ({ user, sessions })).sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0))
      if (alive) setState({ users: list, status })
    }
    const load = (): void =>
      void client.presence(topic).then(
        (list) => ((users = new Map(list.map((u) => [u.user, u.sessions]))), (status = 'live'), show()),
        (error: LifelineError) => alive && error.code !== ErrorCode.CLIENT_CLOSED && setState({ users: [], status: 'failed', error }),
      )
    const offs = [
      client.on('presence', (e) => {
        if (e.topic !== topic) return
        if (!e.joined) users.delete(e.user)
        else if (!users.has(e.user)) users.set(e.user, 1)
        show()
      }),
      client.on('state', ({ to }) => to === 'open' && load()),
    ]
    if (client.state === 'open') load()
    return () => {
      alive = false
      for (const off of offs) off()
      hub.releaseFeed(feed as Feed<never>)
    }
  }, [hub, topic])
  return state
}
