/**
 * The Redis store's scripts for what an app's backend uses: presence (the rules of store/presence.ts),
 * idempotent server appends (`appendOnce`), and the registry of live nodes. Each runs atomically, like
 * redis-scripts.ts, whose PRELUDE they share (presence events and idempotent appends are topic appends).
 *
 * Keys, under the store's prefix P (ARGV[5] of every script here):
 *   p:<topic>    hash session → user: who is present in the topic.
 *   pu:<topic>   hash user → how many of p:<topic>'s sessions are theirs (user-level join/leave without a scan).
 *   ps:<session> set of the topics the session is present in (for `set`, and its end).
 *   pt           set of topics with anyone present: what the sweep walks.
 *   o:<key>      an idempotency key: JSON {topic, offset, epoch, fingerprint}, PEXPIREd at its retention.
 *   nodes        sorted set node → expiry (Redis time, ms).
 * A session is live while its s:<session> key exists (it is PEXPIREd at its TTL): presence checks that, so a
 * session that expired is not listed even before the sweep removes it and appends its leaves.
 */
import { PRELUDE } from './redis-scripts.js'

/** Presence helpers on top of PRELUDE: ARGV[5] is the key prefix. */
const PRESENCE = `${PRELUDE}
local P = ARGV[5]
local NOW = now_ms()

local function note(topic, user, joined)
  local t = '@presence:' .. topic
  local data = '{"user":' .. cjson.encode(user) .. ',"joined":' .. (joined and 'true' or 'false') .. '}'
  append(P .. 'm:' .. t, P .. 'l:' .. t, P .. 'live:' .. t, t, data, NOW)
end

local function live(session)
  return redis.call('EXISTS', P .. 's:' .. session) == 1
end

local function remove(topic, session)
  local pk = P .. 'p:' .. topic
  local user = redis.call('HGET', pk, session)
  if not user then return end
  redis.call('HDEL', pk, session)
  redis.call('SREM', P .. 'ps:' .. session, topic)
  if redis.call('HINCRBY', P .. 'pu:' .. topic, user, -1) <= 0 then
    redis.call('HDEL', P .. 'pu:' .. topic, user)
    note(topic, user, false)
  end
  if redis.call('HLEN', pk) == 0 then
    redis.call('DEL', pk, P .. 'pu:' .. topic)
    redis.call('SREM', P .. 'pt', topic)
  end
end

-- Not purged first, as in presence.ts: an expired session not yet swept still counts for events.
local function add(topic, session, user)
  local pk = P .. 'p:' .. topic
  local had = redis.call('HGET', pk, session)
  if had == user then return end
  if had then remove(topic, session) end
  redis.call('HSET', pk, session, user)
  redis.call('SADD', P .. 'ps:' .. session, topic)
  redis.call('SADD', P .. 'pt', topic)
  if redis.call('HINCRBY', P .. 'pu:' .. topic, user, 1) == 1 then note(topic, user, true) end
end

local function purge(topic)
  for _, session in ipairs(redis.call('HKEYS', P .. 'p:' .. topic)) do
    if not live(session) then remove(topic, session) end
  end
end
`

/** ARGV: prelude, prefix, session, user, mode ('add' | 'remove' | 'set'), topics… */
export const PRESENCE_UPDATE = `${PRESENCE}
local session, user, mode = ARGV[6], ARGV[7], ARGV[8]
local wanted = {}
for i = 9, #ARGV do wanted[ARGV[i]] = true end
if mode == 'remove' then
  for i = 9, #ARGV do remove(ARGV[i], session) end
  return 0
end
if mode == 'set' then
  for _, topic in ipairs(redis.call('SMEMBERS', P .. 'ps:' .. session)) do
    if not wanted[topic] then remove(topic, session) end
  end
end
for i = 9, #ARGV do add(ARGV[i], session, user) end
return 0
`

/** ARGV: prelude, prefix, topic. Returns {user1, count1, user2, count2, …} of live sessions (leaves of dead ones appended). */
export const PRESENCE_LIST = `${PRESENCE}
purge(ARGV[6])
return redis.call('HGETALL', P .. 'pu:' .. ARGV[6])
`

/**
 * ARGV: prelude, prefix, cursor, count. Purges up to about `count` topics of pt (SSCAN), so one call never
 * holds Redis for long; returns the next cursor ('0' when the walk is done).
 */
export const PRESENCE_SWEEP = `${PRESENCE}
local r = redis.call('SSCAN', P .. 'pt', ARGV[6], 'COUNT', ARGV[7])
for _, topic in ipairs(r[2]) do purge(topic) end
return r[1]
`

/**
 * KEYS: meta, log, o:<key>. ARGV: prelude, channel, topic, data, fingerprint, ttlMs.
 * Returns {repeated (0 | 1), JSON of the first append's {topic, offset, epoch, fingerprint}}.
 */
export const APPEND_ONCE = `${PRELUDE}
local kept = redis.call('GET', KEYS[3])
if kept then return {1, kept} end
local offset, epoch = append(KEYS[1], KEYS[2], ARGV[5], ARGV[6], ARGV[7], now_ms())
local result = '{"topic":' .. cjson.encode(ARGV[6]) .. ',"offset":' .. offset .. ',"epoch":' .. cjson.encode(epoch) ..
  ',"fingerprint":' .. cjson.encode(ARGV[8]) .. '}'
redis.call('SET', KEYS[3], result, 'PX', ARGV[9])
return {0, result}
`

/** KEYS: nodes. ARGV: node, ttlMs. Redis's clock, so nodes on machines with skewed clocks agree. */
export const NODE_TOUCH = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 0
`

/** KEYS: nodes. Drops expired touches; returns the live nodes. */
export const NODES = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)
`
