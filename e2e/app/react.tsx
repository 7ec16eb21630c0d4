/**
 * The e2e React page: `@lifeline/react` used as an app would (StrictMode, a provider with `options`, the hooks),
 * with everything it sees in the DOM so e2e/specs/react.spec.ts can count it. The feed subscribes from
 * 'earliest', so after a reload the page shows the topic's whole retained log again, each message once.
 *
 * Query: ws=ws://127.0.0.1:PORT (required), topic=name, persist=session (sessionStorage across reloads).
 *
 * DOM contract (read by the spec):
 *   <html data-lifeline-session="…">                 the session id, for nodeOfPage()
 *   #state[data-state], #status[data-status], #session, #sockets (WebSockets this page load made),
 *   #pending (usePublish's), #outbox (client.pending: also sends restored from storage), #confirmed
 *   #feed li[data-topic][data-offset][data-epoch][data-id]    useTopic's messages, in order
 *   #events li[data-kind=gap|failed|issued]                   gaps, rejected publishes, finished batches
 *   form #compose: Id prefix, Count, Every (ms), Go           publishes `prefix-1 … prefix-N` to the topic
 */
import { StrictMode, useEffect, useState, type FormEvent } from 'react'
import { createRoot } from 'react-dom/client'
import { LifelineProvider, useConnectionState, useLifelineClient, usePublish, useTopic } from '@lifeline/react'

type Payload = { id: string; i: number; prefix: string }

const query = new URLSearchParams(location.search)
const url = query.get('ws')
const topic = query.get('topic') ?? 'react'
const persist = query.get('persist') === 'session' ? sessionStorage : undefined
/** The feed's bound: larger than anything a spec publishes, so the whole log fits. */
const LIMIT = 1_000

// Every WebSocket this page load makes: the provider must make one (and one again after each reconnect).
let sockets = 0
class CountingWebSocket extends WebSocket {
  constructor(target: string | URL, protocols?: string | string[]) {
    super(target, protocols)
    sockets += 1
  }
}

const root = createRoot(document.getElementById('root')!)
if (!url) root.render(<p>Add ?ws=ws://host:port to the URL.</p>)
else
  root.render(
    <StrictMode>
      <LifelineProvider options={{ url, persist, WebSocket: CountingWebSocket }}>
        <Page />
      </LifelineProvider>
    </StrictMode>,
  )

function Page() {
  const state = useConnectionState()
  const client = useLifelineClient<Payload>()
  const feed = useTopic<Payload>(topic, { from: 'earliest', limit: LIMIT })
  const { publish, pending, failed } = usePublish<Payload>(topic)
  const [confirmed, setConfirmed] = useState(0)
  const [outbox, setOutbox] = useState(0)
  const [issued, setIssued] = useState<{ prefix: string; count: number }[]>([])
  const session = client?.sessionId ?? ''

  useEffect(() => {
    if (session) document.documentElement.dataset.lifelineSession = session
  }, [session, state])
  // The outbox shrinks on acks, which are not events: read it often (cheap).
  useEffect(() => {
    const timer = setInterval(() => setOutbox(client?.pending ?? 0), 50)
    return () => clearInterval(timer)
  }, [client])

  const go = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    const prefix = String(form.get('prefix'))
    const count = Number(form.get('count'))
    const interval = Number(form.get('interval'))
    let i = 0
    const next = () => {
      i += 1
      publish({ id: `${prefix}-${i}`, i, prefix }).then(() => setConfirmed((n) => n + 1), () => {})
      if (i < count) setTimeout(next, interval)
      else setIssued((list) => [...list, { prefix, count }])
    }
    next()
  }

  return (
    <>
      <h1>Lifeline (React)</h1>
      <dl>
        <dt>State</dt><dd><output id="state" data-state={state}>{state}</output></dd>
        <dt>Feed</dt><dd><output id="status" data-status={feed.status}>{feed.status}{feed.error ? `: ${feed.error.code}` : ''}</output></dd>
        <dt>Session</dt><dd><output id="session">{session || '–'}</output></dd>
        <dt>Sockets</dt><dd><output id="sockets">{sockets}</output></dd>
        <dt>Pending</dt><dd><output id="pending">{pending}</output></dd>
        <dt>Outbox</dt><dd><output id="outbox">{outbox}</output></dd>
        <dt>Confirmed</dt><dd><output id="confirmed">{confirmed}</output></dd>
      </dl>
      <form id="compose" onSubmit={go}>
        <label>Id prefix <input name="prefix" defaultValue="m" /></label>
        <label>Count <input name="count" type="number" min="1" defaultValue="10" /></label>
        <label>Every (ms) <input name="interval" type="number" min="0" defaultValue="0" /></label>
        <button type="submit">Go</button>
      </form>
      <h2>Feed ({feed.messages.length})</h2>
      <ul id="feed">
        {feed.messages.map((m) => (
          <li key={`${m.epoch}:${m.offset}`} data-topic={m.topic} data-offset={m.offset} data-epoch={m.epoch} data-id={m.data?.id ?? ''}>
            #{m.offset} {m.data?.id ?? JSON.stringify(m.data)}
          </li>
        ))}
      </ul>
      <h2>Events</h2>
      <ul id="events">
        {feed.gap && <li data-kind="gap" data-from={feed.gap.from} data-to={feed.gap.to}>gap {feed.gap.reason} {feed.gap.from}–{feed.gap.to}</li>}
        {failed.map((f) => (
          <li key={f.data.id} data-kind="failed" data-id={f.data.id} data-code={f.error.code}>{f.data.id}: {f.error.code}</li>
        ))}
        {issued.map((b) => (
          <li key={b.prefix} data-kind="issued" data-prefix={b.prefix}>issued {b.count} × {b.prefix}</li>
        ))}
      </ul>
    </>
  )
}
