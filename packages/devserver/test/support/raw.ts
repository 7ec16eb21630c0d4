/**
 * A raw protocol client (plain `ws`, no SDK) for cluster tests that need to see exactly one socket: says hello,
 * resolves with the welcome, records the close code and time.
 */
import WebSocket from 'ws'

export interface RawSession {
  ws: WebSocket
  sessionId: string
  node: string
  /** Resolves with the close code and when it happened. */
  closed: Promise<{ code: number; at: number }>
}

export async function rawSession(url: string, sid?: string): Promise<RawSession> {
  const ws = new WebSocket(sid ? `${url}/?sid=${encodeURIComponent(sid)}` : url)
  ws.on('error', () => {}) // a killed node surfaces as close 1006; the error event adds nothing
  const closed = new Promise<{ code: number; at: number }>((resolve) => ws.once('close', (code) => resolve({ code, at: Date.now() })))
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)))
    void closed.then(({ code }) => reject(new Error(`closed (${code}) before open`)))
  })
  ws.send(JSON.stringify({ t: 'hello', v: 1, subs: {} }))
  const welcome = await new Promise<{ session: { id: string }; node: string }>((resolve, reject) => {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { t: string; session: { id: string }; node: string }
      if (frame.t === 'welcome') resolve(frame)
    })
    void closed.then(({ code }) => reject(new Error(`closed (${code}) before welcome`)))
  })
  return { ws, sessionId: welcome.session.id, node: welcome.node, closed }
}

/** True while a process with this pid exists (signal 0 checks without sending anything). */
export function processAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
