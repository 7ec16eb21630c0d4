/**
 * Lifeline chat, in React: the same room as examples/chat, written with @lifeline/react. The provider owns the
 * client (one socket, also under StrictMode); `useTopic` subscribes from 'earliest', so a reload shows the room's
 * retained log again, each message once, with no list of lines kept by the page; `usePublish` sends, and says
 * what is pending and what failed; `useConnectionState` drives the badge.
 *
 * Query: ?ws=ws://host:port (the cluster's balancer; default the one `npm start` runs), ?room=room:lobby.
 */
import { StrictMode, useEffect, useRef, useState, type FormEvent } from 'react'
import { createRoot } from 'react-dom/client'
import { LifelineProvider, useConnectionState, useLifelineClient, usePublish, useTopic } from '@lifeline/react'

/** A chat message as published on the room's topic (the same shape as examples/chat's). `author`: a per-tab id. */
interface ChatData {
  id: string
  author: string
  user: string
  text: string
}

/** The cluster `npm start` runs. */
const DEFAULT_WS = 'ws://127.0.0.1:8080'
const query = new URLSearchParams(location.search)
const wsUrl = query.get('ws') ?? DEFAULT_WS
/** Topic names the server accepts (protocol: 1–256 of these characters, not starting with @). */
const TOPIC = /^[A-Za-z0-9_.:/-]{1,256}$/
/** Lines kept on screen: the newest, older ones drop off the top (useTopic's bounded buffer). */
const SCROLLBACK = 300

const author = remember('lifeline-react-chat:author', () => crypto.randomUUID())
const dashboard = wsUrl.replace(/^ws(s?):\/\/([^/?#]+).*$/, 'http$1://$2/')

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <LifelineProvider options={{ url: wsUrl, persist: sessionStorage }}>
      <Chat />
    </LifelineProvider>
  </StrictMode>,
)

function Chat() {
  const state = useConnectionState()
  const client = useLifelineClient<ChatData>()
  const [name, setName] = useState(() => remember('lifeline-react-chat:name', () => `guest-${Math.floor(Math.random() * 9000 + 1000)}`))
  const [room, setRoom] = useState(() => query.get('room') ?? sessionStorage.getItem('lifeline-react-chat:room') ?? 'room:lobby')
  const session = client?.sessionId ?? ''

  // The same attribute the e2e pages set, so nodeOfPage() from @lifeline/devserver/testing works here too.
  useEffect(() => {
    if (session) document.documentElement.dataset.lifelineSession = session
  }, [session, state])

  const join = (topic: string) => {
    if (!TOPIC.test(topic) || topic.startsWith('@')) return
    sessionStorage.setItem('lifeline-react-chat:room', topic)
    setRoom(topic)
  }

  return (
    <main className="app">
      <header className="top">
        <div className="brand">
          <span className="logo" aria-hidden="true">⟲</span>
          <div>
            <h1>Lifeline chat (React)</h1>
            <p className="sub">Kill the node you are on. The chat keeps going.</p>
          </div>
        </div>
        <output className="pill" data-state={state}>{state}</output>
      </header>
      <section className="bar">
        <label>
          Name
          <input value={name} maxLength={32} onChange={(e) => setName(e.target.value)} onBlur={() => sessionStorage.setItem('lifeline-react-chat:name', name.trim() || 'guest')} />
        </label>
        <label>
          Room
          <input defaultValue={room} maxLength={64} spellCheck={false} onBlur={(e) => join(e.target.value.trim())} />
        </label>
        <dl className="facts">
          <div><dt>session</dt><dd><code title={session}>{session.slice(0, 12) || '–'}</code></dd></div>
        </dl>
      </section>
      <div className="body">
        {/* A new room is a new component: its own subscription, from 'earliest'. */}
        <Room key={room} topic={room} name={name} />
        <aside className="try">
          <h2>Try to break it</h2>
          <ol>
            <li>Send a few messages (or <em>Send 20</em>).</li>
            <li>Open the <a href={dashboard} target="_blank" rel="noopener">cluster dashboard</a>: the node with a connection is yours.</li>
            <li><strong>kill</strong>, <strong>drain</strong> or <strong>freeze</strong> it, and send more meanwhile.</li>
            <li>Watch the badge go <em>reconnecting</em> → <em>open</em>: every message arrives once, in order.</li>
            <li>Reload the page: the room's log comes back from the cluster, nothing twice.</li>
          </ol>
          <p className="note">Cluster: <code>{wsUrl}</code><br />Another one: add <code>?ws=ws://host:port</code> to this page's URL.</p>
        </aside>
      </div>
    </main>
  )
}

function Room({ topic, name }: { topic: string; name: string }) {
  const { messages, gap, status, error } = useTopic<ChatData>(topic, { from: 'earliest', limit: SCROLLBACK })
  const { publish, pending, failed } = usePublish<ChatData>(topic)
  const [text, setText] = useState('')
  const list = useRef<HTMLOListElement>(null)
  /** Whether the newest line is in view: the list follows new lines unless the reader scrolled up. */
  const follow = useRef(true)

  useEffect(() => {
    if (follow.current && list.current) list.current.scrollTop = list.current.scrollHeight
  }, [messages])

  const send = (line: string) => void publish({ id: crypto.randomUUID(), author, user: name.trim() || 'guest', text: line }).catch(() => {})
  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (text.trim()) send(text.trim())
    setText('')
  }

  return (
    <section className="chat">
      <ol ref={list} className="messages" aria-live="polite" onScroll={(e) => (follow.current = e.currentTarget.scrollHeight - e.currentTarget.scrollTop - e.currentTarget.clientHeight < 40)}>
        {status === 'subscribing' && <li data-kind="sys">joining {topic}…</li>}
        {status === 'failed' && <li data-kind="sys" data-tone="error">could not join {topic}: {error?.code} {error?.message}</li>}
        {gap && (
          <li data-kind="sys" data-tone="warn">
            gap ({gap.reason}): {gap.to >= gap.from ? `messages #${gap.from}–#${gap.to}` : 'nothing of the new log'} can no longer be delivered
          </li>
        )}
        {messages.map((m) => (
          <li key={`${m.epoch}:${m.offset}`} data-kind="msg" data-offset={m.offset} data-mine={String(m.data.author === author)}>
            <span className="user">{m.data.user}</span>
            <span className="text">{m.data.text}</span>
            <span className="meta">#{m.offset}</span>
          </li>
        ))}
        {failed.map((f) => (
          <li key={f.data.id} data-kind="msg" data-mine="true" data-status="failed" title={f.error.message}>
            <span className="text">{f.data.text}</span>
            <span className="meta">failed ✗ {f.error.code}</span>
          </li>
        ))}
      </ol>
      <form className="compose" autoComplete="off" onSubmit={submit}>
        <input value={text} placeholder="Say something…" maxLength={500} onChange={(e) => setText(e.target.value)} />
        <button type="submit">Send{pending > 0 ? ` (${pending} sending)` : ''}</button>
        <button type="button" className="ghost" title="Publish 20 numbered messages at once" onClick={() => Array.from({ length: 20 }, (_, i) => send(`burst ${i + 1}/20`))}>
          Send 20
        </button>
      </form>
    </section>
  )
}

function remember(key: string, make: () => string): string {
  const stored = sessionStorage.getItem(key)
  if (stored) return stored
  const value = make()
  sessionStorage.setItem(key, value)
  return value
}
