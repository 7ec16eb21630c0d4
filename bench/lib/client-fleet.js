/**
 * A fleet of real clients in one child process: Lifeline SDK clients (`kind: 'lifeline'`) or the baseline,
 * partysocket with its defaults (`kind: 'partysocket'`). Each client joins one room (topic) and records, with
 * wall-clock times, when its connection went down and came back, and every message id it saw, so the parent
 * can count lost, duplicated and out-of-order messages and time each client's resume.
 * Runs in its own process so that 1,000 clients' parsing does not share a core with the servers under test.
 */
import WS from 'ws'
import ReconnectingWebSocket from 'partysocket/ws'
import { serve, withTimeout } from './proc.js'

/** @type {{room: string, down: number[], up: number[], seen: Set<number>, dup: number, disorder: number, last: number, gaps: number, close: () => unknown, sessionId?: () => string | undefined}[]} */
const clients = []

function track(room) {
  return { room, down: [], up: [], states: [], seen: new Set(), dup: 0, disorder: 0, last: 0, gaps: 0, close: () => {} }
}

function onId(c, i) {
  if (c.seen.has(i)) c.dup++
  else c.seen.add(i)
  if (i < c.last) c.disorder++
  else c.last = i
}

async function connectLifeline(url, room) {
  const { createClient } = await import('@lifeline/sdk')
  const c = track(room)
  const client = createClient({ url, WebSocket: WS })
  client.on('state', ({ from, to }) => {
    c.states.push([Date.now(), to])
    if (to === 'open') c.up.push(Date.now())
    else if (from === 'open') c.down.push(Date.now())
  })
  client.on('message', ({ data }) => onId(c, data.i))
  client.on('gap', () => c.gaps++)
  c.close = () => client.close()
  c.sessionId = () => client.sessionId
  await client.subscribe(room)
  return c
}

/** Baseline: partysocket defaults; its URL function walks the server list, so a retry reaches a survivor. */
function connectPartysocket(urls, home, room) {
  const c = track(room)
  let attempt = 0
  const ws = new ReconnectingWebSocket(() => `${urls[(home + attempt++) % urls.length]}/?room=${room}`, undefined, {
    WebSocket: WS,
  })
  ws.addEventListener('close', () => c.down.push(Date.now()))
  ws.addEventListener('message', (e) => {
    const frame = JSON.parse(String(e.data))
    if (typeof frame.i === 'number' && frame.room) onId(c, frame.i)
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
  /** Connect `count` clients in batches (so the servers' accept queues are not flooded); room = index % rooms. */
  async connect({ kind, urls, count, firstIndex = 0, rooms, batch = 50, timeoutMs = 60_000 }) {
    const end = Date.now() + timeoutMs
    for (let start = 0; start < count; start += batch) {
      const wave = []
      for (let k = start; k < Math.min(count, start + batch); k++) {
        const index = firstIndex + k
        const room = `room-${index % rooms}`
        wave.push(kind === 'lifeline' ? connectLifeline(urls[0], room) : connectPartysocket(urls, index, room))
      }
      clients.push(...(await withTimeout(Promise.all(wave), Math.max(1, end - Date.now()), `${kind} fleet connect`)))
    }
    return { connected: clients.length, sessions: clients.map((c) => c.sessionId?.() ?? null) }
  },

  /**
   * Wait (at most `waitMs`) until every client saw every id its room published (`expected[room]`), then
   * summarise each client: first drop at or after `markT`, first reconnect after it, and the message counts.
   */
  async report({ markT, expected, waitMs }) {
    const complete = () => clients.every((c) => c.seen.size >= (expected[c.room] ?? 0))
    const end = Date.now() + waitMs
    while (!complete() && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
    return clients.map((c) => {
      const down = c.down.find((t) => t >= markT) ?? null
      const up = down === null ? null : (c.up.find((t) => t >= down) ?? null)
      let missing = 0
      for (let i = 1; i <= (expected[c.room] ?? 0); i++) if (!c.seen.has(i)) missing++
      // State changes between the drop and the resume: 2 is a clean reconnect, more means failed attempts.
      const hops = down === null ? 0 : c.states.filter(([t]) => t >= down && (up === null || t <= up)).length
      return { down, up, hops, missing, dup: c.dup, disorder: c.disorder, gaps: c.gaps, expected: expected[c.room] ?? 0 }
    })
  },

  async close() {
    await Promise.allSettled(clients.map((c) => c.close()))
    return clients.length
  },
})
