/**
 * Lifeline chat: one room (a topic), a name, a message list, an input. Everything the SDK reports is shown: the
 * connection state, the session id, the pending count, and every gap, reset and error as a line in the chat.
 *
 * Query: ?ws=ws://host:port (the cluster's balancer; default the one `npm start` runs), ?room=room:lobby.
 * The session, topic positions and unsent messages live in sessionStorage (the SDK's `persist`), the shown lines
 * too (room.ts): a reload resumes the same session and shows the same chat, with nothing lost or twice.
 */
import { createClient, type ClientState } from '@lifeline/sdk'
import { Room, isChatData, type ChatData, type Entry, type Status } from './room.js'

/** The cluster `npm start` runs. */
const DEFAULT_WS = 'ws://127.0.0.1:8080'
const DEFAULT_ROOM = 'room:lobby'
/** Topic names the server accepts (protocol: 1–256 of these characters). */
const TOPIC = /^[A-Za-z0-9_.:/-]{1,256}$/
/** What each state of a line means, in the words the SDK README uses. */
const STATUS: Record<Status, string> = {
  sending: 'sending…', // in the outbox, not yet acknowledged
  sent: 'applied ✓', // the cluster applied it (publish resolved); its delivery back to this tab is next
  delivered: 'delivered ✓✓', // came back on the topic with its offset
  failed: 'failed ✗',
  unknown: 'unknown ?', // sent on a session that then expired: applied or not cannot be known
}

const query = new URLSearchParams(location.search)
const wsUrl = query.get('ws') ?? DEFAULT_WS
const $ = <E extends HTMLElement = HTMLElement>(id: string): E => document.getElementById(id) as E

const author = remember('lifeline-chat:author', () => crypto.randomUUID())
const nameInput = $<HTMLInputElement>('name')
nameInput.value = remember('lifeline-chat:name', () => `guest-${Math.floor(Math.random() * 9000 + 1000)}`)
nameInput.addEventListener('change', () => {
  nameInput.value = nameInput.value.trim() || 'guest'
  sessionStorage.setItem('lifeline-chat:name', nameInput.value)
})

// The admin API and its dashboard are served on the balancer's own port, over HTTP.
const dashboard = wsUrl.replace(/^ws(s?):\/\/([^/?#]+).*$/, 'http$1://$2/')
$<HTMLAnchorElement>('dashboard').href = dashboard
$('cluster').textContent = wsUrl

/**
 * The node this page is on, or null while it has no connection. Every `welcome` names the node that sent it
 * (protocol: Welcome.node); the SDK does not surface it, so the page reads it off its own socket, through the
 * SDK's `WebSocket` option (a constructor it calls at each connect).
 */
let node: string | null = null
let latestSocket: WebSocket | undefined
class NodeNamingSocket extends WebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols)
    latestSocket = this
    this.addEventListener('message', (event) => {
      // The server writes `t` first (protocol/codec.ts): only a welcome is parsed a second time.
      if (typeof event.data !== 'string' || !event.data.startsWith('{"t":"welcome"')) return
      const welcome = JSON.parse(event.data) as { node?: unknown }
      if (latestSocket === this && typeof welcome.node === 'string') node = welcome.node
      renderFacts()
    })
    // A socket replaced by a newer one says nothing: its close is not news once the next one is open.
    this.addEventListener('close', () => {
      if (latestSocket === this) node = null
      renderFacts()
    })
  }
}

const client = createClient({ url: wsUrl, persist: sessionStorage, WebSocket: NodeNamingSocket })
/** The session restored from sessionStorage (a reload), if any: its first `open` is a resume, not a new session. */
const restored = client.sessionId
// ?room= wins; otherwise the room this tab was in before a reload.
const firstRoom = query.get('room') ?? sessionStorage.getItem('lifeline-chat:room') ?? DEFAULT_ROOM
sessionStorage.setItem('lifeline-chat:room', firstRoom)
let room = new Room(firstRoom, sessionStorage)
const roomInput = $<HTMLInputElement>('room')
roomInput.value = room.topic
if (room.entries.length > 0) room.system('info', 'page reloaded')
join(room.topic)

client.on('state', ({ from, to }) => {
  const line = stateLine(from, to)
  if (line) room.system(line.tone, line.text)
  render()
})
client.on('message', ({ topic, offset, epoch, data }) => {
  if (topic !== room.topic) return
  // Someone else's shape on this topic: still shown (and counted), just as raw JSON.
  const chat: ChatData = isChatData(data) ? data : { id: `#${offset}`, author: '', user: '?', text: JSON.stringify(data) }
  room.delivered(offset, epoch, chat)
  render()
})
client.on('gap', ({ topic, reason, from, to }) => {
  if (topic !== room.topic) return
  const what = to >= from ? `messages #${from}–#${to}` : 'nothing of the new log'
  room.system('warn', `gap (${reason}): ${what} can no longer be delivered${reason === 'epoch' ? ' (the room’s log was replaced)' : ''}`)
  room.gap(reason, to)
  render()
})
client.on('reset', ({ unconfirmed }) => {
  for (const u of unconfirmed) if (isChatData(u.data) && u.topic === room.topic) room.status(u.data.id, 'unknown', 'the session expired after it was sent: it may or may not have arrived')
  room.system('error', `session reset: the server no longer knew this session; ${unconfirmed.length} sent message(s) may or may not have arrived`)
  render()
})
client.on('error', ({ code, message }) => {
  room.system('error', `${code}: ${message}`)
  render()
})

$<HTMLFormElement>('compose').addEventListener('submit', (event) => {
  event.preventDefault()
  const input = $<HTMLInputElement>('text')
  const text = input.value.trim()
  if (!text) return
  input.value = ''
  publish(text)
})
$('burst').addEventListener('click', () => {
  for (let i = 1; i <= 20; i += 1) publish(`burst ${i}/20`)
})
roomInput.addEventListener('change', () => {
  const topic = roomInput.value.trim()
  if (!TOPIC.test(topic) || topic.startsWith('@')) {
    roomInput.value = room.topic
    room.system('error', `"${topic}" is not a room name: use 1–256 of A–Z a–z 0–9 _ . : / -`)
    return render()
  }
  if (topic === room.topic) return
  void client.unsubscribe(room.topic)
  sessionStorage.setItem('lifeline-chat:room', topic)
  room = new Room(topic, sessionStorage)
  join(topic)
})

// Pending drops on acks, which are not events the app hears about: re-read it a few times a second.
setInterval(renderFacts, 200)
render()

function join(topic: string): void {
  render()
  client.subscribe(topic).then(
    () => {
      if (room.topic === topic && room.entries.length === 0) room.system('info', `joined ${topic}: live from now`)
      render()
    },
    (e: { code?: string; message?: string }) => {
      room.system('error', `could not join ${topic}: ${e.code ?? ''} ${e.message ?? ''}`)
      render()
    },
  )
}

function publish(text: string): void {
  const data: ChatData = { id: crypto.randomUUID(), author, user: nameInput.value, text }
  const target = room
  target.sending(data)
  // Resolves once the cluster applied it, exactly once, however many reconnects it takes.
  client.publish(target.topic, data).then(
    () => target.status(data.id, 'sent'),
    (e: { code?: string }) => target.status(data.id, e.code === 'SESSION_RESET' ? 'unknown' : 'failed', e.code),
  ).finally(render)
  render()
}

function stateLine(from: ClientState, to: ClientState): { tone: 'info' | 'ok' | 'warn' | 'error'; text: string } | null {
  if (to === 'reconnecting') return { tone: 'warn', text: 'connection lost: reconnecting; new messages wait in the outbox' }
  // The welcome that opened the connection has been read by then (NodeNamingSocket listens before the SDK does).
  const on = node ? ` on ${node}` : ''
  if (to === 'open' && from === 'reconnecting') return { tone: 'ok', text: `reconnected${on}: session resumed, catching up` }
  if (to === 'open' && restored && client.sessionId === restored) return { tone: 'ok', text: `reconnected${on} after the reload: same session, catching up` }
  if (to === 'open') return { tone: 'ok', text: `connected to ${wsUrl}${on}` }
  if (to === 'closed') return { tone: 'error', text: 'closed: the client stopped (see the error above)' }
  return null
}

function render(): void {
  renderFacts()
  const list = $('messages')
  const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 40
  list.replaceChildren(...room.entries.map(line))
  if (stick) list.scrollTop = list.scrollHeight
}

function renderFacts(): void {
  const state = $('state')
  state.textContent = state.dataset.state = client.state
  const session = client.sessionId
  $('session').textContent = session ? session.slice(0, 12) : '–'
  $('session').title = session ?? ''
  // The same attribute the e2e page sets, so @lifeline/devserver/testing's nodeOfPage() works on this page too.
  if (session) document.documentElement.dataset.lifelineSession = session
  $('pending').textContent = String(client.pending)
  $('node').textContent = node ?? '–'
  $('node').title = node ? `the node serving this page's connection: ${node} (kill it from the dashboard)` : 'no connection right now'
  const { delivered, duplicated, outOfOrder } = room.tally
  const tally = $('tally')
  tally.textContent = `${delivered} · ${duplicated} dup · ${outOfOrder} out of order`
  tally.dataset.ok = String(duplicated === 0 && outOfOrder === 0)
}

function line(entry: Entry): HTMLLIElement {
  const li = document.createElement('li')
  li.dataset.kind = entry.kind
  const time = new Date(entry.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
  if (entry.kind === 'sys') {
    li.dataset.tone = entry.tone
    li.append(span('text', entry.text), span('time', time))
    return li
  }
  Object.assign(li.dataset, { id: entry.id, status: entry.status, mine: String(entry.author === author) })
  if (entry.offset !== undefined) li.dataset.offset = String(entry.offset)
  const meta = span('meta', `${entry.offset !== undefined ? `#${entry.offset} · ` : ''}${time} · ${STATUS[entry.status]}`)
  if (entry.note) meta.title = entry.note
  li.append(span('user', entry.user), span('text', entry.text), meta)
  return li
}

function span(cls: string, text: string): HTMLSpanElement {
  return Object.assign(document.createElement('span'), { className: cls, textContent: text })
}

function remember(key: string, make: () => string): string {
  const value = sessionStorage.getItem(key) ?? make()
  sessionStorage.setItem(key, value)
  return value
}
