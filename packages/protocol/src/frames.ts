/**
 * Every frame of the protocol, defined once as a zod schema; the TypeScript types are inferred from it.
 * JSON text frames, one object per frame, discriminated by `t`. See ../../../README.md#protocol.
 *
 * `zod/mini` rather than `zod`: the same schemas run in the browser bundle, where mini is a fraction of the size.
 */
import * as z from 'zod/mini'

/** Topic names: 1–256 chars of `[A-Za-z0-9_.:/-]`, or the reserved `@inbox`. */
export const Topic = z.string().check(z.minLength(1), z.maxLength(256), z.regex(/^(@inbox|[\w.:/-]+)$/))

/** A JWT (compact serialisation): bounded, so a hello stays small whatever a client puts in it. */
const Token = z.string().check(z.minLength(1), z.maxLength(8192))
const Seq = z.int().check(z.minimum(1))
const Offset = z.int().check(z.minimum(0))
/** An epoch names one incarnation of a topic's log; a new epoch means the old log (and its offsets) is gone. */
const Epoch = z.string().check(z.minLength(1), z.maxLength(64))
/** Where a client stands in a topic: the last offset it delivered, in which epoch. */
export const Position = z.object({ offset: Offset, epoch: Epoch })
/**
 * Where a subscription starts, in `hello.subs` and `sub.from` (null or absent: live from now, after the head).
 * - a `Position`: resume after it (what the client delivered last, in that epoch). Another epoch, or an offset
 *   past the head, means the log the client read is gone: `subscribed.gap` (reason 'epoch'), then the oldest
 *   retained message; an offset retention dropped: a 'retention' gap, then the oldest retained.
 * - `{ offset }` without an epoch: the same, in whatever log the topic has now (for an app that holds an offset
 *   but no epoch); an offset past the head starts live from now.
 * - `'earliest'`: from the oldest retained message, with no gap for what retention dropped before it.
 * For the last two, `subscribed.after` tells the client where the replay starts (it held no position).
 */
export const From = z.union([z.object({ offset: Offset, epoch: z.optional(Epoch) }), z.literal('earliest')])

// ---------------------------------------------------------------- client → server

/**
 * Resuming a session. `token`: the one from the newest `welcome` this client received (it changes at every
 * resume). `lastSeq`: the highest `seq` this client has assigned in the session (persisted with its outbox), so
 * the server can tell a copy of the persisted state that missed writes (a duplicated tab) from a reload.
 */
export const Resume = z.object({
  token: z.string().check(z.maxLength(512)),
  lastSeq: z.int().check(z.minimum(0)),
})
/**
 * First frame on every connection. `subs`: topics to (re)subscribe, with the position to resume from or null for
 * "live from now". `instance`: a random id of this client object, made once per page load and never persisted,
 * so the server can tell this client retrying a resume (its welcome was lost) from another client holding a
 * copy of the same persisted state; absent, every retry with an older token counts as a copy (`reset`).
 * `attempt`: this client object's connection attempts, counted from 1, so a hello that waited somewhere (in a
 * frozen node's socket buffer) is known to be older than the claim the session has now and claims nothing.
 */
export const Hello = z.object({
  t: z.literal('hello'),
  v: z.int(),
  instance: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  attempt: z.optional(z.int().check(z.minimum(1))),
  resume: z.optional(Resume),
  subs: z.record(Topic, z.nullable(From)),
  /** The user's JWT, when the server requires one (never in the URL: URLs end up in logs). See `Auth`. */
  token: z.optional(Token),
  /** Topics of `subs` whose `presence` events this client wants (as `sub.presence`). */
  presence: z.optional(z.array(Topic)),
})
/** Publish `data` to `topic`. `seq` counts per session from 1 with no holes. */
export const Pub = z.object({ t: z.literal('pub'), seq: Seq, topic: Topic, data: z.unknown() })
/** Send `data` to the server's handler. Shares the session's `seq` counter with `pub`. */
export const Send = z.object({ t: z.literal('send'), seq: Seq, data: z.unknown() })
/** Subscribe; `from` says where to start (see From), absent means live from now. */
export const Sub = z.object({
  t: z.literal('sub'),
  topic: Topic,
  from: z.optional(From),
  /** Also send this topic's `presence` events (a user's first session joining, its last one leaving). */
  presence: z.optional(z.boolean()),
})
export const Unsub = z.object({ t: z.literal('unsub'), topic: Topic })
/**
 * A fresh JWT for the open connection, sent before the current one's `exp`: the server verifies it and goes on
 * with its claims (same `sub` only), so a long-lived connection never has to reconnect to stay authorized. A
 * token that fails is answered with an `error` (UNAUTHORIZED) and the connection keeps its current claims.
 */
export const Auth = z.object({ t: z.literal('auth'), token: Token })
export const Ping = z.object({ t: z.literal('ping') })
export const Pong = z.object({ t: z.literal('pong') })

/**
 * A question the server answers once, on this connection: a `result` with the same `id`, or an `error` with
 * that `id`. `kind` says what is asked; its other fields are the kind's (each kind documents them where the
 * server handles it). `id` counts per connection from 1; answers may come in any order.
 */
export const Query = z.object({
  t: z.literal('query'),
  id: z.int().check(z.minimum(1)),
  kind: z.string().check(z.minLength(1), z.maxLength(32)),
  topic: z.optional(Topic),
  /** history: the first offset wanted, or 'earliest' (the oldest retained). */
  from: z.optional(z.union([Offset, z.literal('earliest')])),
  /** history: at most this many messages. */
  limit: z.optional(z.int().check(z.minimum(1))),
})

export const ClientFrame = z.discriminatedUnion('t', [Hello, Pub, Send, Sub, Unsub, Ping, Pong, Query, Auth])

// ---------------------------------------------------------------- server → client

/**
 * Answer to `hello`. `resumed` is false when a new session was created; if the client asked to resume, `reset`
 * says why its session was not resumed and the SDK raises `reset`: `'expired'` (unknown or past its TTL) or
 * `'taken'` (its token is no longer current: another client resumed the session since, e.g. a duplicated tab
 * holding a copy of the same persisted state, so this one must not write to it). `acked` is the highest
 * client `seq` applied; the client resends everything after it. `heartbeatMs`: how often the server pings;
 * `timeoutMs`: silence after which either side gives up on the connection. `maxFrameBytes` and
 * `maxSubscriptions` are this server's limits (absent: DEFAULT_LIMITS in codes.ts), so a client refuses a call
 * the server would refuse, at the call, instead of sending it.
 */
export const Welcome = z.object({
  t: z.literal('welcome'),
  session: z.object({ id: z.string(), token: z.string() }),
  resumed: z.boolean(),
  reset: z.optional(z.enum(['expired', 'taken'])),
  node: z.string(),
  acked: z.int().check(z.minimum(0)),
  heartbeatMs: z.int().check(z.minimum(1)),
  timeoutMs: z.int().check(z.minimum(1)),
  maxFrameBytes: z.optional(z.int().check(z.minimum(1))),
  maxSubscriptions: z.optional(z.int().check(z.minimum(1))),
})
/**
 * One message of a topic. `offset` is the topic's own dense counter (1, 2, 3 …) within `epoch`. `from`: the
 * `sub` (user id) of the session that published it, set by the server from the publisher's verified token;
 * absent for publishes of the server's own (HTTP API, app code) and of sessions without a token. No client
 * frame carries it, so no client can set it.
 */
export const Msg = z.object({ t: z.literal('msg'), topic: Topic, offset: Seq, epoch: Epoch, data: z.unknown(), from: z.optional(z.string()) })
/** Cumulative: every client `seq` ≤ this one was applied. */
export const Ack = z.object({ t: z.literal('ack'), seq: z.int().check(z.minimum(0)) })
/**
 * Messages a resume could not recover. `reason: 'retention'`: offsets `from`..`to` (inclusive, in the current
 * epoch) fell out of the log. `reason: 'epoch'`: the log the client read from is gone; its unread tail is
 * unknown, and `from`..`to` are the offsets of the new epoch that are also gone (to < from when none are).
 */
export const Gap = z.object({ reason: z.enum(['retention', 'epoch']), from: Offset, to: Offset })
/**
 * A subscription is in place. `offset`/`epoch`: the topic's head when it was set up; replayed messages (if the
 * client resumed from an older position) follow this frame, then live ones. `recovered` is true when the
 * client's position was fully recovered; otherwise `gap` says what was lost. `after`: set when the client
 * started without a position (`'earliest'`, or an offset without an epoch): the replay starts at `after + 1`.
 */
export const Subscribed = z.object({
  t: z.literal('subscribed'),
  topic: Topic,
  offset: Offset,
  epoch: Epoch,
  recovered: z.boolean(),
  gap: z.optional(Gap),
  after: z.optional(Offset),
})
export const Unsubscribed = z.object({ t: z.literal('unsubscribed'), topic: Topic })
/** Something the client did was refused. `code` is an ErrorCode; `seq`/`topic` name the frame it concerns, when one does. */
export const ErrorFrame = z.object({
  t: z.literal('error'),
  code: z.string(),
  message: z.string(),
  seq: z.optional(z.int()),
  topic: z.optional(z.string()),
  /** The `query` this refuses. */
  id: z.optional(z.int()),
})

/** The answer to the `query` with this `id`. `value`'s shape is the query kind's. */
export const Result = z.object({ t: z.literal('result'), id: z.int().check(z.minimum(1)), value: z.unknown() })

/**
 * Presence in `topic` changed, for a subscription made with `presence`: `user`'s first session subscribed to it
 * (`joined: true`), or its last one left it (unsubscribed, or its session ended). Live only: a client that was
 * away asks for the current list (query kind 'presence') instead of being replayed what it missed.
 */
export const Presence = z.object({ t: z.literal('presence'), topic: Topic, user: z.string(), joined: z.boolean() })

export const ServerFrame = z.discriminatedUnion('t', [Welcome, Msg, Ack, Subscribed, Unsubscribed, ErrorFrame, Ping, Pong, Result, Presence])

export type Position = z.infer<typeof Position>
export type From = z.infer<typeof From>
export type Resume = z.infer<typeof Resume>
export type Hello = z.infer<typeof Hello>
export type Pub = z.infer<typeof Pub>
export type Send = z.infer<typeof Send>
export type Sub = z.infer<typeof Sub>
export type Unsub = z.infer<typeof Unsub>
export type Ping = z.infer<typeof Ping>
export type Pong = z.infer<typeof Pong>
export type Query = z.infer<typeof Query>
export type Auth = z.infer<typeof Auth>
export type Presence = z.infer<typeof Presence>
export type Result = z.infer<typeof Result>
export type ClientFrame = z.infer<typeof ClientFrame>
export type Welcome = z.infer<typeof Welcome>
export type Msg = z.infer<typeof Msg>
export type Ack = z.infer<typeof Ack>
export type Gap = z.infer<typeof Gap>
export type Subscribed = z.infer<typeof Subscribed>
export type Unsubscribed = z.infer<typeof Unsubscribed>
export type ErrorFrame = z.infer<typeof ErrorFrame>
export type ServerFrame = z.infer<typeof ServerFrame>
export type Frame = ClientFrame | ServerFrame
