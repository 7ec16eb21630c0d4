/**
 * The Redis store's Lua scripts. Each runs atomically inside Redis, which is what makes `apply` one step:
 * no other client's command can run between its generation check, seq check, appends and acked update.
 *
 * Keys (all under the store's prefix, default `lifeline:`):
 *   s:<session>   hash {acked, generation, base, instance, attempt, expiresAt}, PEXPIREd: the session dies with its TTL.
 *   m:<topic>     hash {epoch, last, run}: the log's epoch, its newest offset, the Redis process that made the epoch.
 *   l:<topic>     stream; entry ID `<offset>-0`, fields `d` (JSON data), `ts` (Redis time, ms) and, for a
 *                 session's write, `f` (its user: StoredMessage.from).
 * Presence, idempotency keys and the node registry have their own keys: redis-backend.ts.
 * Channel: <prefix>live:<topic>, one PUBLISH per appended message, in offset order (scripts run one at a time).
 *
 * Why an epoch is tied to the Redis process that made it (`run`, INFO's run_id, in the meta hash): a Redis that
 * started again may have started from a file older than what it acknowledged (a restored snapshot, an
 * append-only file fsynced once a second, a lagging replica promoted), and its logs would then restart from an
 * older head and reuse offsets for new messages: live readers would drop those as duplicates and resuming ones
 * would be told they recovered. Nothing inside Redis can tell a lossless restart from a lossy one, so every
 * epoch made by another process is replaced at its next use: readers get an explicit `gap` after any Redis
 * restart or failover, never reused offsets. A topic Redis lost altogether (eviction, idle expiry) gets a new
 * epoch the same way.
 *
 * Why ARGV carries the epoch candidate: Lua's math.random is seeded the same way on every run; the node
 * generates a random one and it is used only when the topic has none.
 *
 * Not Redis Cluster-safe: `apply` touches the session and every topic it appends to in one script, which may
 * span hash slots. Use one primary (with replicas / Sentinel for failover).
 */

/** Shared helpers, prepended to the scripts that touch topics. `ARGV[1..4]` is the same for all of them. */
export const PRELUDE = `
local EPOCH_CANDIDATE = ARGV[1]
local MAX_MESSAGES = tonumber(ARGV[2])
local MAX_AGE_MS = tonumber(ARGV[3])
local IDLE_TTL_MS = tonumber(ARGV[4])

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function offset_of(id)
  return tonumber(string.match(id, '^(%d+)'))
end

-- This Redis process's identity: new at every start, never in a snapshot or an append-only file.
local RUN_ID = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')

-- The topic's epoch, created if missing or made by another Redis process. A new epoch drops a leftover log so
-- offsets restart at 1.
local function ensure_epoch(meta, log)
  local cur = redis.call('HMGET', meta, 'epoch', 'run')
  if cur[1] and cur[2] == RUN_ID then return cur[1] end
  redis.call('DEL', log)
  redis.call('HSET', meta, 'epoch', EPOCH_CANDIDATE, 'last', 0, 'run', RUN_ID)
  return EPOCH_CANDIDATE
end

-- Age retention. Entries are in offset order and their times never decrease, so the stale ones form a prefix.
-- Looks at one entry in the common case; at most 8 batches of 128 per call, so a huge backlog is trimmed
-- over several calls rather than blocking Redis in one.
local function trim_age(log, now)
  if MAX_AGE_MS <= 0 then return end
  local cutoff = now - MAX_AGE_MS
  local first = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)
  if #first == 0 or tonumber(first[1][2][4]) >= cutoff then return end
  for _ = 1, 8 do
    local batch = redis.call('XRANGE', log, '-', '+', 'COUNT', 128)
    if #batch == 0 then return end
    for _, e in ipairs(batch) do
      if tonumber(e[2][4]) >= cutoff then
        redis.call('XTRIM', log, 'MINID', e[1])
        return
      end
    end
    redis.call('XTRIM', log, 'MINID', (offset_of(batch[#batch][1]) + 1) .. '-0')
  end
end

local function keep_alive(meta, log)
  if IDLE_TTL_MS > 0 then
    redis.call('PEXPIRE', meta, IDLE_TTL_MS)
    redis.call('PEXPIRE', log, IDLE_TTL_MS)
  end
end

-- Append one message; returns its offset. \`data\` is JSON text, embedded verbatim in the published message.
-- \`from\` (the publishing session's user) is kept as field \`f\` when it is a non-empty string.
local function append(meta, log, channel, topic, data, now, from)
  local epoch = ensure_epoch(meta, log)
  local offset = redis.call('HINCRBY', meta, 'last', 1)
  local stamped = from ~= nil and from ~= ''
  if stamped then
    redis.call('XADD', log, 'MAXLEN', MAX_MESSAGES, offset .. '-0', 'd', data, 'ts', now, 'f', from)
  else
    redis.call('XADD', log, 'MAXLEN', MAX_MESSAGES, offset .. '-0', 'd', data, 'ts', now)
  end
  trim_age(log, now)
  keep_alive(meta, log)
  redis.call('PUBLISH', channel, '{"topic":' .. cjson.encode(topic) .. ',"offset":' .. offset ..
    ',"epoch":' .. cjson.encode(epoch) .. ',"time":' .. now .. (stamped and (',"from":' .. cjson.encode(from)) or '') ..
    ',"data":' .. data .. '}')
  return offset, epoch
end
`

/**
 * The atomic client write, of one seq or a batch (`seq`..`through`, store/types.ts ApplyOp).
 * KEYS: session, then (meta, log) per append. ARGV: prelude[1..4], channel prefix, generation, seq, through, then
 * (topic, data) per append, then the session's user ('' for none), stamped on every appended message.
 * Returns {'applied', now, epoch1, offset1, …} | {'duplicate'} | {'seq-gap', acked} | {'stale-generation'}
 * | {'unknown-session'}.
 */
export const APPLY = `${PRELUDE}
local session = KEYS[1]
local channel_prefix = ARGV[5]
local generation = tonumber(ARGV[6])
local seq = tonumber(ARGV[7])
local through = tonumber(ARGV[8])
local rec = redis.call('HMGET', session, 'generation', 'acked')
if not rec[1] then return {'unknown-session'} end
if tonumber(rec[1]) ~= generation then return {'stale-generation'} end
local acked = tonumber(rec[2])
if through <= acked then return {'duplicate'} end
if seq ~= acked + 1 then return {'seq-gap', acked} end
local now = now_ms()
local out = {'applied', now}
local n = (#KEYS - 1) / 2
local from = ARGV[9 + 2 * n]
for i = 1, n do
  local topic = ARGV[7 + 2 * i]
  local offset, epoch = append(KEYS[2 * i], KEYS[2 * i + 1], channel_prefix .. topic, topic, ARGV[8 + 2 * i], now, from)
  out[#out + 1] = epoch
  out[#out + 1] = offset
end
redis.call('HSET', session, 'acked', through)
return out
`

/** A server-originated append. KEYS: meta, log. ARGV: prelude, channel, topic, data. Returns {now, epoch, offset}. */
export const APPEND = `${PRELUDE}
local now = now_ms()
local offset, epoch = append(KEYS[1], KEYS[2], ARGV[5], ARGV[6], ARGV[7], now)
return {now, epoch, offset}
`

/** KEYS: meta, log. ARGV: prelude. Returns {epoch, last, first}; creates the epoch if the topic has none. */
export const HEAD = `${PRELUDE}
local epoch = ensure_epoch(KEYS[1], KEYS[2])
trim_age(KEYS[2], now_ms())
keep_alive(KEYS[1], KEYS[2])
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
if #first == 0 then return {epoch, last, last + 1} end
return {epoch, last, offset_of(first[1][1])}
`

/**
 * KEYS: meta, log. ARGV: prelude, from, limit. Returns {epoch, entries} with entries as XRANGE gives them, or
 * {false} when the topic has no current epoch (never created, lost, or made by another Redis process and due to
 * be replaced): nothing to read.
 */
export const READ = `${PRELUDE}
local cur = redis.call('HMGET', KEYS[1], 'epoch', 'run')
if not cur[1] or cur[2] ~= RUN_ID then return {false} end
local epoch = cur[1]
trim_age(KEYS[2], now_ms())
return {epoch, redis.call('XRANGE', KEYS[2], ARGV[5] .. '-0', '+', 'COUNT', ARGV[6])}
`

/**
 * The claim rule of store/claim.ts `judgeClaim`, in Lua (the contract suite checks both agree).
 * KEYS: session. ARGV: ttlMs, expiresAt, presented generation, instance ('' for none), lastSeq, next generation,
 * attempt. Returns {'claimed', acked} | {'taken'} | {'stale'} | {'unknown'}.
 */
export const CLAIM = `
local rec = redis.call('HMGET', KEYS[1], 'generation', 'acked', 'instance', 'attempt', 'base')
if not rec[1] then return {'unknown'} end
local acked = tonumber(rec[2])
local knows = tonumber(ARGV[5]) >= acked
if ARGV[4] ~= '' and ARGV[4] == rec[3] then
  if tonumber(ARGV[7]) <= tonumber(rec[4] or '0') then return {'stale'} end
  if not ((ARGV[3] == rec[1] or ARGV[3] == rec[5]) and knows) then return {'taken'} end
elseif not (ARGV[3] == rec[1] and knows) then
  return {'taken'}
end
redis.call('HSET', KEYS[1], 'generation', ARGV[6], 'base', ARGV[3], 'instance', ARGV[4], 'attempt', ARGV[7], 'expiresAt', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return {'claimed', acked}
`

/** KEYS: session. ARGV: generation, ttlMs, expiresAt. Returns 1 when refreshed, 0 when stale or gone. */
export const TOUCH = `
local g = redis.call('HGET', KEYS[1], 'generation')
if not g or tonumber(g) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'expiresAt', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`
