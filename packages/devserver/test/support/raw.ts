/**
 * A raw protocol client (plain `ws`, no SDK) for tests that need to see exactly one socket: says hello,
 * resolves with the welcome, keeps every frame, records the close code and time.
 */
import WebSocket from 'ws'

type Frame = { t: string; [key: string]: unknown }

export interface RawSession {
  ws: WebSocket
  sessionId: string
  token: string
  node: string
  /** Every frame received after the welcome. */
  frames: Frame[]
  /** Resolves with the close code and when it happened. */
  closed: Promise<{ code: number; at: number }>
  send(frame: Frame): void
}

export interface RawOptions {
  /** `?sid=` for the balancer's sticky routing. */
  sid?: string
  /** Resume this session (its token from an earlier welcome). */
  token?: string
  /** hello.subs. Default none. */
  subs?: Record<string, { offset: number; epoch: string } | null>
}

let attempts = 0

export async function rawSession(url: string, options: RawOptions | string = {}): Promise<RawSession> {
  const o: RawOptions = typeof options === 'string' ? { sid: options } : options
  const ws = new WebSocket(o.sid ? `${url}/?sid=${encodeURIComponent(o.sid)}` : url)
  ws.on('error', () => {}) // a killed node surfaces as close 1006; the error event adds nothing
  const closed = new Promise<{ code: number; at: number }>((resolve) => ws.once('close', (code) => resolve({ code, at: Date.now() })))
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)))
    void closed.then(({ code }) => reject(new Error(`closed (${code}) before open`)))
  })
  const frames: Frame[] = []
  // One client object across every raw session (shared `instance`, rising `attempt`): a resume is its own retry.
  ws.send(JSON.stringify({ t: 'hello', v: 1, instance: 'raw-session', attempt: ++attempts, subs: o.subs ?? {}, ...(o.token ? { resume: { token: o.token, lastSeq: 0 } } : {}) }))
  const welcome = await new Promise<{ session: { id: string; token: string }; node: string }>((resolve, reject) => {
    let welcomed = false
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame
      if (welcomed) return void frames.push(frame)
      if (frame.t !== 'welcome') return
      welcomed = true
      resolve(frame as unknown as { session: { id: string; token: string }; node: string })
    })
    void closed.then(({ code }) => reject(new Error(`closed (${code}) before welcome`)))
  })
  return {
    ws,
    sessionId: welcome.session.id,
    token: welcome.session.token,
    node: welcome.node,
    frames,
    closed,
    send: (frame) => ws.send(JSON.stringify(frame)),
  }
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
