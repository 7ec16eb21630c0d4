/**
 * Active health checks: `GET /healthz` on every node, on a timer. The counting is a pure function (tested
 * without sockets); `probe` is the thin I/O around one request.
 */
import http from 'node:http'

export interface HealthOptions {
  /** How often every node is probed. Default 500 ms: with `downAfter` 2 a dead or frozen node is out within ~1 s. */
  intervalMs: number
  /**
   * How long one probe may take. Default 1,000 ms: a frozen (SIGSTOPped) node still completes the TCP handshake
   * in the kernel and only the missing answer gives it away, so this bounds how fast it is noticed (~2–3 s with
   * `downAfter` 2, still well inside the clients' 5 s heartbeat timeout). Not shorter: at 400 ms, healthy nodes
   * starved of CPU on a loaded 2-core machine failed two probes in a row and had their clients cut.
   * A probe still running when the next is due is not doubled; that node simply skips a round.
   */
  timeoutMs: number
  /** Consecutive failures before a node is taken out. Default 2: one slow answer on a busy machine is not a death. */
  downAfter: number
  /** Consecutive successes before a down node is routed to again. Default 1: a node that answers is ready (it says so). */
  upAfter: number
}

export const HEALTH_DEFAULTS: HealthOptions = { intervalMs: 500, timeoutMs: 1_000, downAfter: 2, upAfter: 1 }

export type Health = 'up' | 'down'

/** Per node: its health and the run of identical probe results that may flip it. */
export interface HealthState {
  health: Health
  failures: number
  successes: number
}

export function initialHealth(health: Health): HealthState {
  return { health, failures: 0, successes: 0 }
}

/** One probe result in, the next state out. `health` flips only after `downAfter`/`upAfter` results in a row. */
export function nextHealth(state: HealthState, ok: boolean, options: HealthOptions): HealthState {
  if (ok) {
    const successes = state.successes + 1
    const health = state.health === 'down' && successes >= options.upAfter ? 'up' : state.health
    return { health, failures: 0, successes }
  }
  const failures = state.failures + 1
  const health = state.health === 'up' && failures >= options.downAfter ? 'down' : state.health
  return { health, failures, successes: 0 }
}

/** `ok`: answered 200. `draining`: answered that it is draining (503 + status draining); the node says it is leaving. */
export type ProbeResult = { ok: true } | { ok: false; draining: boolean; reason: string }

/** One `GET /healthz`. Never rejects. */
export function probe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false
    const done = (result: ProbeResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      req.destroy()
      resolve(result)
    }
    // agent: false: a fresh connection per probe, so a probe never queues behind a stuck keep-alive socket.
    const req = http.get({ host, port, path: '/healthz', agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', () => done({ ok: false, draining: false, reason: 'response error' }))
      res.on('end', () => {
        if (res.statusCode === 200) return done({ ok: true })
        done({ ok: false, draining: isDraining(Buffer.concat(chunks).toString('utf8')), reason: `HTTP ${res.statusCode}` })
      })
    })
    const timer = setTimeout(() => done({ ok: false, draining: false, reason: `no answer in ${timeoutMs} ms` }), timeoutMs)
    req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, draining: false, reason: err.code ?? err.message }))
  })
}

function isDraining(body: string): boolean {
  try {
    return (JSON.parse(body) as { status?: unknown }).status === 'draining'
  } catch {
    return false
  }
}
