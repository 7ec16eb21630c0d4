/**
 * A fleet of real clients in one child process: Lifeline SDK clients (`kind: 'lifeline'`) or the baseline,
 * partysocket with its defaults (`kind: 'partysocket'`). Each client joins one room (topic) and records, with
 * wall-clock times, when its connection went down and came back. What each received goes into this fleet's
 * ledger (@lifeline/devserver/testing/ledger, the one every harness counts with), so the parent gets each
 * client's lost, duplicated and out-of-order counts and can time its resume.
 * The pacer publishes `{room, i}`: the i-th message of the room's one stream, so the tag is (room, i).
 * Runs in its own process so that 1,000 clients' parsing does not share a core with the servers under test.
 */
import WS from 'ws'
import ReconnectingWebSocket from 'partysocket/ws'
import { Ledger } from '@lifeline/devserver/testing/ledger'
import { serve, sleep, withTimeout } from './proc.js'

/** @typedef {import('@lifeline/devserver/testing/ledger').Counts} Counts */
/** @typedef {import('@lifeline/devserver/testing/ledger').Tag} Tag */

/**
 * @typedef {object} FleetClient
 * @property {string} name  its reader name in the ledger: its global index
 * @property {string} room
 * @property {number[]} down  when its connection dropped (ms since the epoch)
 * @property {number[]} up  when it was open again
 * @property {[number, string][]} states  every state change with its time (Lifeline only)
 * @property {() => unknown} close
 * @property {() => string | null | undefined} [sessionId]
 */

/**
 * One client's summary (see `report`).
 * @typedef {object} ClientReport
 * @property {number | null} down  its first drop at or after `markT`
 * @property {number | null} up  its first reconnect after that drop
 * @property {number} hops  state changes from drop to resume: 2 is a clean reconnect, more means failed attempts
 * @property {Counts} counts  its messages, counted by the ledger
 */

/** @type {FleetClient[]} */
const clients = []
const ledger = new Ledger()

/**
 * @param {number} index
 * @param {string} room
 * @returns {FleetClient}
 */
function track(index, room) {
  const name = String(index)
  ledger.reads(name, room) // before the pacer starts: every message of the room is expected
  return { name, room, down: [], up: [], states: [], close: () => {} }
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
  const client = createClient({ url, WebSocket: /** @type {import('@lifeline/sdk').WebSocketConstructor} */ (/** @type {unknown} */ (WS)) })
  client.on('state', ({ from, to }) => {
    c.states.push([Date.now(), to])
    if (to === 'open') c.up.push(Date.now())
    else if (from === 'open') c.down.push(Date.now())
  })
  ledger.follow(c.name, client, tagOf)
  c.close = () => client.close()
  c.sessionId = () => client.sessionId
  await client.subscribe(room)
  return c
}

/**
 * Baseline: partysocket defaults; its URL function walks the server list, so a retry reaches a survivor. Its
 * frames carry no offset or epoch (the plain server keeps no log): order is judged by i alone.
 * @param {string[]} urls
 * @param {number} home
 * @param {string} room
 * @returns {Promise<FleetClient>}
 */
function connectPartysocket(urls, home, room) {
  const c = track(home, room)
  let attempt = 0
  const ws = new ReconnectingWebSocket(() => `${urls[(home + attempt++) % urls.length]}/?room=${room}`, undefined, {
    WebSocket: WS,
  })
  ws.addEventListener('close', () => c.down.push(Date.now()))
  ws.addEventListener('message', (e) => {
    const tag = tagOf(JSON.parse(String(e.data)))
    if (tag) ledger.received({ reader: c.name, topic: room, ...tag })
  })
  c.close = () => ws.close()
  return new Promise((resolve) => {
    ws.addEventListener('open', () => {
      c.up.push(Date.now())
      resolve(c)
    })
  })
}

serve({
  /**
   * Connect `count` clients in batches (so the servers' accept queues are not flooded); room = index % rooms.
   * @param {{ kind: 'lifeline' | 'partysocket', urls: string[], count: number, firstIndex?: number, rooms: number, batch?: number, timeoutMs?: number }} args
   */
  async connect({ kind, urls, count, firstIndex = 0, rooms, batch = 50, timeoutMs = 60_000 }) {
    const end = Date.now() + timeoutMs
    for (let start = 0; start < count; start += batch) {
      const wave = []
      for (let k = start; k < Math.min(count, start + batch); k++) {
        const index = firstIndex + k
        const room = `room-${index % rooms}`
        wave.push(kind === 'lifeline' ? connectLifeline(urls[0] ?? '', index, room) : connectPartysocket(urls, index, room))
      }
      clients.push(...(await withTimeout(Promise.all(wave), Math.max(1, end - Date.now()), `${kind} fleet connect`)))
    }
    return { connected: clients.length, sessions: clients.map((c) => c.sessionId?.() ?? null) }
  },

  /**
   * Record what each room published (`expected[room]`: messages 1..n), wait (at most `waitMs`) until every
   * client has all of its room's, then summarise each client (see ClientReport).
   * @param {{ markT: number, expected: Record<string, number>, waitMs: number }} args
   * @returns {Promise<ClientReport[]>}
   */
  async report({ markT, expected, waitMs }) {
    for (const [room, published] of Object.entries(expected)) for (let n = 1; n <= published; n++) ledger.sent(room, { stream: room, n })
    const end = Date.now() + waitMs
    while (!ledger.complete() && Date.now() < end) await sleep(50)
    return clients.map((c) => {
      const down = c.down.find((t) => t >= markT) ?? null
      const up = down === null ? null : (c.up.find((t) => t >= down) ?? null)
      const hops = down === null ? 0 : c.states.filter(([t]) => t >= down && (up === null || t <= up)).length
      return { down, up, hops, counts: ledger.counts({ reader: c.name }) }
    })
  },

  async close() {
    await Promise.allSettled(clients.map((c) => c.close()))
    return clients.length
  },
})
