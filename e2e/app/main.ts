/**
 * The e2e page: a tiny app that uses `@lifeline/sdk` exactly as any app would, and shows everything it sees in
 * the DOM so Playwright specs can count it. Specs never reach into the SDK; they read this page and drive it
 * through its form, like a person would.
 *
 * Configured by the page URL's query:
 *   ws=ws://127.0.0.1:PORT   cluster (balancer) URL, required
 *   topic=a,b                topics to subscribe to on load
 *   persist=session|local    keep session, positions and outbox in sessionStorage/localStorage across reloads
 *   backoffMin=ms, backoffMax=ms, outboxMax=n, overflow=reject|drop-oldest
 *
 * DOM contract (read by e2e/support/app.ts):
 *   <html data-lifeline-session="…">        the session id; `nodeOfPage()` in @lifeline/devserver/testing reads it
 *   #state[data-state], #session, #pending, #confirmed, #subscribed
 *   (the node is not shown: the SDK does not expose it; specs ask the cluster with `nodeOfPage`)
 *   #messages li[data-topic][data-offset][data-epoch][data-id]   every delivered message, in delivery order
 *   #events li[data-kind=state|gap|reset|error|network|issued][data-at]   with data-from/data-to, data-code, …
 *   #rejections li[data-code][data-id]                        publish/send promises that rejected
 */
import { createClient, type BackoffOptions, type ClientOptions, type OutboxOptions, type Overflow } from '@lifeline/sdk'

type Payload = { id: string; i: number; prefix: string }

const query = new URLSearchParams(location.search)
const $ = <E extends Element = HTMLElement>(selector: string): E => {
  const el = document.querySelector<E>(selector)
  if (!el) throw new Error(`e2e page: missing ${selector}`)
  return el
}

const url = query.get('ws')
if (!url) {
  document.body.prepend(Object.assign(document.createElement('p'), { textContent: 'Add ?ws=ws://host:port to the URL.' }))
  throw new Error('e2e page: ?ws= is required')
}

const client = createClient(clientOptions(url))
const topics = (query.get('topic') ?? '').split(',').filter(Boolean)
let confirmed = 0

client.on('state', ({ from, to }) => {
  logEvent('state', `${from} → ${to}`, { from, to })
  render()
})
client.on('message', ({ topic, offset, epoch, data }) => {
  const id = isPayload(data) ? data.id : ''
  const li = document.createElement('li')
  Object.assign(li.dataset, { topic, offset: String(offset), epoch, id })
  li.textContent = `${topic} #${offset} ${id || JSON.stringify(data)}`
  $('#messages').append(li)
})
client.on('gap', ({ topic, from, to }) => logEvent('gap', `${topic} ${from}..${to}`, { topic, from: String(from), to: String(to) }))
client.on('reset', ({ unconfirmed }) => logEvent('reset', `${unconfirmed.length} unconfirmed`, { count: String(unconfirmed.length) }))
client.on('error', ({ code, message }) => logEvent('error', `${code}: ${message}`, { code }))

// What the browser says about the network, so a spec can time the reconnect from the `online` event.
addEventListener('online', () => logEvent('network', 'online', { to: 'online' }))
addEventListener('offline', () => logEvent('network', 'offline', { to: 'offline' }))

// Pending changes on acks, which are not events the app hears about; re-read it often (cheap, DOM-only).
setInterval(render, 50)
render()
void Promise.all(topics.map((t) => client.subscribe(t))).then(() => {
  $('#subscribed').textContent = topics.join(',') || '(none)'
  $('#subscribed').dataset.done = 'true'
})

$<HTMLFormElement>('#compose').addEventListener('submit', (event) => {
  event.preventDefault()
  const form = new FormData(event.currentTarget as HTMLFormElement)
  const kind = String(form.get('kind'))
  const topic = String(form.get('topic') || topics[0] || '')
  const prefix = String(form.get('prefix'))
  const count = Number(form.get('count'))
  const interval = Number(form.get('interval'))
  let i = 0
  const next = (): void => {
    i += 1
    const payload: Payload = { id: `${prefix}-${i}`, i, prefix }
    const done = kind === 'send' ? client.send(payload) : client.publish(topic, payload)
    done.then(
      () => void (confirmed += 1),
      (error: unknown) => reject(payload.id, error),
    )
    if (i < count) interval > 0 ? setTimeout(next, interval) : next()
    else logEvent('issued', `${prefix}: ${count} ${kind}`, { prefix, count: String(count) })
  }
  next()
})

/** Only what the query sets; every other option keeps the SDK's documented default. */
function clientOptions(url: string): ClientOptions {
  const backoff: BackoffOptions = {}
  const outbox: OutboxOptions = {}
  if (query.has('backoffMin')) backoff.minMs = Number(query.get('backoffMin'))
  if (query.has('backoffMax')) backoff.maxMs = Number(query.get('backoffMax'))
  if (query.has('outboxMax')) outbox.maxMessages = Number(query.get('outboxMax'))
  if (query.has('overflow')) outbox.overflow = query.get('overflow') as Overflow
  const persist = query.get('persist')
  const storage = persist === 'local' ? localStorage : persist ? sessionStorage : undefined
  return { url, backoff, outbox, persist: storage }
}

function render(): void {
  const state = $('#state')
  state.textContent = state.dataset.state = client.state
  const session = client.sessionId ?? ''
  $('#session').textContent = session || '–'
  if (session) document.documentElement.dataset.lifelineSession = session
  $('#pending').textContent = String(client.pending)
  $('#confirmed').textContent = String(confirmed)
}

function reject(id: string, error: unknown): void {
  const code = (error as { code?: unknown } | null)?.code
  const li = document.createElement('li')
  Object.assign(li.dataset, { id, code: typeof code === 'string' ? code : 'UNKNOWN' })
  li.textContent = `${id}: ${li.dataset.code} ${(error as Error | null)?.message ?? ''}`
  $('#rejections').append(li)
}

function logEvent(kind: string, text: string, data: Record<string, string> = {}): void {
  const li = document.createElement('li')
  Object.assign(li.dataset, data, { kind, at: String(Math.round(performance.now())) })
  li.textContent = `${kind}: ${text}`
  $('#events').append(li)
}

function isPayload(data: unknown): data is Payload {
  return typeof data === 'object' && data !== null && typeof (data as Payload).id === 'string'
}
