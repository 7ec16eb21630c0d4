/**
 * A fleet of real clients in one child process: Lifeline SDK clients (`kind: 'lifeline'`), the baseline,
 * partysocket (`kind: 'partysocket'`, its defaults unless `partysocket` options are given), or Socket.IO clients
 * (`kind: 'socketio'`: socket.io-client, WebSocket transport, reconnectionDelay 100 ms). Each client joins one room
 * (topic) and records, with wall-clock times, when its connection went down and came back, and (Socket.IO) whether
 * each reconnect recovered its session, (Lifeline) every `reset`. What each received goes into this fleet's
 * ledger (@lifeline/devserver/testing/ledger, the one every harness counts with), so the parent gets each
 * client's lost, duplicated and out-of-order counts and can time its resume.
 * The publisher publishes `{room, i}`: the i-th message of the room's one stream, so the tag is (room, i).
 * With `upstream`, every client also sends messages to its server (Lifeline `send`, Socket.IO `emit` with an ack,
 * ws `send`, acknowledged by the plain server), counted as sent / acknowledged / failed.
 * Runs in its own process so that 1,000 clients' parsing does not share a core with the servers under test.
 */
import WS from 'ws'
import ReconnectingWebSocket from 'partysocket/ws'
import { io } from 'socket.io-client'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Ledger } from '@lifeline/devserver/testing/ledger'
import { serve, sleep, withTimeout } from './proc.js'

/** @typedef {import('@lifeline/devserver/testing/ledger').Counts} Counts */
/** @typedef {import('@lifeline/devserver/testing/ledger').Tag} Tag */
/** @typedef {'lifeline' | 'partysocket' | 'socketio'} Kind */

/**
 * @typedef {object} FleetClient
 * @property {string} name  its reader name in the ledger: its global index
 * @property {string} room
 * @property {number[]} down  when its connection dropped (ms since the epoch)
 * @property {number[]} up  when it was open again
 * @property {[number, string][]} states  every state change with its time (Lifeline only)
 * @property {number[]} resets  when it got a `reset` (Lifeline: its session was not resumed)
 * @property {[number, boolean][]} connects  each connect with `socket.recovered` (Socket.IO only)
 * @property {[number, number | null][]} sockets  each WebSocket it created: when, and when it opened (Lifeline only)
 * @property {() => unknown} close
 * @property {() => void} sendUp  send one upstream message
 * @property {() => string | null | undefined} [sessionId]
 */

/**
 * One fault's view of a client: its first drop in [mark, next mark), its first reopen after that, and whether
 * that reopen recovered the session (Lifeline: no `reset` around it; Socket.IO: `socket.recovered`; ws: null).
 * @typedef {{ down: number | null, up: number | null, recovered: boolean | null }} Drop
 */

/**
 * One client's summary (see `report`).
 * @typedef {object} ClientReport
 * @property {number | null} down  its first drop at or after `markT`
 * @property {number | null} up  its first reconnect after that drop
 * @property {number} hops  state changes from drop to resume: 2 is a clean reconnect, more means failed attempts
 * @property {Drop[]} drops  one per mark of `marks`
 * @property {Phases | null} phases  how that resume's time split (Lifeline only)
 * @property {Counts} counts  its messages, counted by the ledger
 */

/**
 * A resume's time from drop to open, split: `backoff` drop → the socket that succeeded was created (failed
 * attempts included), `connect` its TCP connect and upgrade, `welcome` open → `hello` answered (state open).
 * @typedef {{ backoff: number, connect: number, welcome: number }} Phases
 */

/** @type {FleetClient[]} */
const clients = []
const ledger = new Ledger()
/** Upstream messages: sent, acknowledged, failed (rejected); the rest are pending. */
const up = { sent: 0, acked: 0, failed: 0 }
/** @type {NodeJS.Timeout | null} */
let upTimer = null
/** This process's event-loop delay: a fleet that cannot keep up with its clients shows here first. */
const delay = monitorEventLoopDelay({ resolution: 20 })
delay.enable()

/**
 * @param {number} index
 * @param {string} room
 * @returns {FleetClient}
 */
function track(index, room) {
  const name = String(index)
  ledger.reads(name, room) // before the pacer starts: every message of the room is expected
  return { name, room, down: [], up: [], states: [], resets: [], connects: [], sockets: [], close: () => {}, sendUp: () => {} }
}

/**
 * @param {unknown} data
 * @returns {Tag | undefined}
 */
function tagOf(data) {
  const d = /** @type {{ room?: unknown, i?: unknown } | null} */ (data)
  return typeof d === 'object' && d !== null && typeof d.room === 'string' && typeof d.i === 'number' ? { stream: d.room, n: d.i } : undefined
}

/**
 * @param {string} url
 * @param {number} index
 * @param {string} room
 */
async function connectLifeline(url, index, room) {
  const { createClient } = await import('@lifeline/sdk')
  const c = track(index, room)
  /** `ws`, recording when each socket was created and opened (the resume's phases). */
  class Timed extends WS {
    /**
     * @param {string} address
     * @param {string | string[]} [protocols]
     */
    constructor(address, protocols) {
      super(address, protocols)
      /** @type {[number, number | null]} */
      const s = [Date.now(), null]
      c.sockets.push(s)
      this.once('open', () => (s[1] = Date.now()))
    }
  }
  const client = createClient({ url, WebSocket: /** @type {import('@lifeline/sdk').WebSocketConstructor} */ (/** @type {unknown} */ (Timed)) })
  client.on('state', ({ from, to }) => {
    c.states.push([Date.now(), to])
    if (to === 'open') c.up.push(Date.now())
    else if (from === 'open') c.down.push(Date.now())
  })
  client.on('reset', () => c.resets.push(Date.now()))
  ledger.follow(c.name, client, tagOf)
  c.close = () => client.close()
  c.sessionId = () => client.sessionId
  let k = 0
  c.sendUp = () => {
    up.sent++
    client.send({ u: ++k }).then(
      () => up.acked++,
      () => up.failed++,
    )
  }
  await client.subscribe(room)
  return c
}

/**
 * Baseline: partysocket (defaults, or `options`); its URL function walks the server list, so a retry reaches a
 * survivor. Its frames carry no offset or epoch (the plain server keeps no log): order is judged by i alone.
 * @param {string[]} urls
 * @param {number} home
 * @param {string} room
 * @param {import('partysocket/ws').Options} options
 * @returns {Promise<FleetClient>}
 */
function connectPartysocket(urls, home, room, options) {
  const c = track(home, room)
  let attempt = 0
  const ws = new ReconnectingWebSocket(() => `${urls[(home + attempt++) % urls.length]}/?room=${room}`, undefined, {
    WebSocket: WS,
    ...options,
  })
  ws.addEventListener('close', () => c.down.push(Date.now()))
  ws.addEventListener('message', (e) => {
    const data = JSON.parse(String(e.data))
    const tag = tagOf(data)
    if (tag) ledger.received({ reader: c.name, topic: room, ...tag })
    else if (typeof data?.ack === 'number') up.acked++
  })
  c.close = () => ws.close()
  let k = 0
  c.sendUp = () => {
    up.sent++
    ws.send(JSON.stringify({ u: 1, i: ++k })) // no room: the server acknowledges it and sends it nowhere
  }
  return new Promise((resolve) => {
    ws.addEventListener('open', () => {
      c.up.push(Date.now())
      resolve(c)
    })
  })
}

/**
 * Socket.IO: one connection per client (`forceNew`, or io() would multiplex them all on one), joins its room from
 * the handshake query; on each reconnect attempt it moves on to the next URL, like partysocket above.
 * @param {string[]} urls
 * @param {number} home
 * @param {string} room
 * @returns {Promise<FleetClient>}
 */
function connectSocketio(urls, home, room) {
  const c = track(home, room)
  let attempt = 0
  const socket = io(urls[home % urls.length], { transports: ['websocket'], reconnectionDelay: 100, forceNew: true, query: { room } })
  socket.io.on('reconnect_attempt', () => {
    attempt++
    // The manager opens its next engine on this URI (socket.io-client Manager.open).
    /** @type {{ uri: string }} */ (/** @type {unknown} */ (socket.io)).uri = urls[(home + attempt) % urls.length] ?? ''
  })
  socket.on('disconnect', () => c.down.push(Date.now()))
  socket.on('m', (/** @type {unknown} */ data) => {
    const tag = tagOf(data)
    if (tag) ledger.received({ reader: c.name, topic: room, ...tag })
  })
  c.close = () => socket.close()
  let k = 0
  c.sendUp = () => {
    up.sent++
    socket.emit('up', { u: ++k }, () => up.acked++)
  }
  return new Promise((resolve) => {
    socket.on('connect', () => {
      c.up.push(Date.now())
      c.connects.push([Date.now(), socket.recovered])
      resolve(c)
    })
  })
}

/**
 * @param {FleetClient} c
 * @param {number} from
 * @param {number} until
 * @returns {Drop}
 */
function dropOf(c, from, until) {
  const down = c.down.find((t) => t >= from && t < until) ?? null
  const upAt = down === null ? null : (c.up.find((t) => t >= down) ?? null)
  /** @type {boolean | null} */
  let recovered = null
  if (upAt !== null && c.sessionId) recovered = !c.resets.some((t) => t >= (down ?? 0) && t <= upAt + 2_000)
  else if (upAt !== null && c.connects.length > 0) recovered = c.connects.find(([t]) => t >= upAt)?.[1] ?? false
  return { down, up: upAt, recovered }
}

/**
 * @param {FleetClient} c
 * @param {number | null} down
 * @param {number | null} upAt
 * @returns {Phases | null}
 */
function phasesOf(c, down, upAt) {
  if (down === null || upAt === null) return null
  const s = c.sockets.filter(([t]) => t >= down && t <= upAt).pop()
  if (!s || s[1] === null) return null
  return { backoff: s[0] - down, connect: s[1] - s[0], welcome: upAt - s[1] }
}

serve({
  /**
   * Connect `count` clients in batches (so the servers' accept queues are not flooded); room = index % rooms.
   * `partysocket`: options for the partysocket clients (default: its defaults).
   * @param {{ kind: Kind, urls: string[], count: number, firstIndex?: number, rooms: number, batch?: number, timeoutMs?: number, partysocket?: import('partysocket/ws').Options }} args
   */
  async connect({ kind, urls, count, firstIndex = 0, rooms, batch = 50, timeoutMs = 60_000, partysocket = {} }) {
    const end = Date.now() + timeoutMs
    for (let start = 0; start < count; start += batch) {
      const wave = []
      for (let k = start; k < Math.min(count, start + batch); k++) {
        const index = firstIndex + k
        const room = `room-${index % rooms}`
        wave.push(
          kind === 'lifeline'
            ? connectLifeline(urls[0] ?? '', index, room)
            : kind === 'socketio'
              ? connectSocketio(urls, index, room)
              : connectPartysocket(urls, index, room, partysocket),
        )
      }
      clients.push(...(await withTimeout(Promise.all(wave), Math.max(1, end - Date.now()), `${kind} fleet connect`)))
    }
    return { connected: clients.length, sessions: clients.map((c) => c.sessionId?.() ?? null) }
  },

  /**
   * Every client sends `rate` messages/s upstream from now on, spread over 20 ms ticks (client k sends on the
   * ticks where k ≡ tick, modulo the ticks per period), so the fleet sends evenly rather than in bursts.
   * @param {{ rate: number }} args
   */
  upstream({ rate }) {
    const slots = Math.max(1, Math.round(1000 / rate / 20))
    let tick = 0
    upTimer = setInterval(() => {
      for (let k = tick++ % slots; k < clients.length; k += slots) clients[k]?.sendUp()
    }, 20)
    return true
  },

  /** Stop the upstream senders; what they sent, and how much was acknowledged so far. */
  upstreamStop() {
    if (upTimer) clearInterval(upTimer)
    return { ...up }
  },

  /**
   * Record what each room published (`expected[room]`: messages 1..n), wait (at most `waitMs`) until every
   * client has all of its room's, then summarise each client (see ClientReport). `marks`: fault times, each
   * client's first drop in [marks[k], marks[k+1]) is its `drops[k]` (default: just `markT`).
   * @param {{ markT: number, marks?: number[], expected: Record<string, number>, waitMs: number }} args
   * @returns {Promise<ClientReport[]>}
   */
  async report({ markT, marks = [markT], expected, waitMs }) {
    for (const [room, published] of Object.entries(expected)) for (let n = 1; n <= published; n++) ledger.sent(room, { stream: room, n })
    const end = Date.now() + waitMs
    while (!ledger.complete() && Date.now() < end) await sleep(50)
    return clients.map((c) => {
      const down = c.down.find((t) => t >= markT) ?? null
      const upAt = down === null ? null : (c.up.find((t) => t >= down) ?? null)
      const hops = down === null ? 0 : c.states.filter(([t]) => t >= down && (upAt === null || t <= upAt)).length
      const drops = marks.map((m, k) => dropOf(c, m, marks[k + 1] ?? Infinity))
      return { down, up: upAt, hops, drops, phases: phasesOf(c, down, upAt), counts: ledger.counts({ reader: c.name }) }
    })
  },

  /**
   * Event-loop delay since the last `lag` call with `reset` (or the start), ms: p99 and max.
   * @param {{ reset?: boolean }} args
   */
  lag({ reset = false }) {
    const out = { p99: Math.round(delay.percentile(99) / 1e6), max: Math.round(delay.max / 1e6) }
    if (reset) delay.reset()
    return out
  },

  async close() {
    if (upTimer) clearInterval(upTimer)
    await Promise.allSettled(clients.map((c) => c.close()))
    return clients.length
  },
})
