/** Drives a SessionCore on a fake clock: no socket, no timer; effects are inspected as data. */
import type { ClientFrame } from '@lifeline/protocol'
import { SessionCore, type Effect, type Input } from '../../src/core.js'
import { resolveOptions } from '../../src/options.js'
import type { Restored } from '../../src/storage.js'
import type { ClientEvents, ClientOptions } from '../../src/types.js'

export type Harness = ReturnType<typeof harness>

export function harness<T = unknown>(opts: Partial<ClientOptions<T>> = {}, restored?: Restored) {
  const clock = { t: 1_000_000 }
  const o = resolveOptions<T>({ url: 'ws://lifeline.test/ws', now: () => clock.t, random: () => 0.5, ...opts })
  const core = new SessionCore<T>(o, restored)
  let log: Effect<T>[] = []
  const h = {
    core,
    clock,
    /** Feed inputs; returns (and records) the effects. */
    step(...inputs: Input[]): Effect<T>[] {
      const out = inputs.flatMap((i) => core.handle(i))
      log.push(...out)
      return out
    },
    frame(f: object): Effect<T>[] {
      return h.step({ type: 'socket-frame', text: JSON.stringify(f) })
    },
    /** Start, open the socket, and answer hello with a welcome. */
    open(welcome: Partial<{ id: string; token: string; resumed: boolean; acked: number; timeoutMs: number }> = {}): Effect<T>[] {
      if (core.conn.type === 'idle') h.step({ type: 'start' })
      if (core.conn.type === 'waiting') h.step({ type: 'timer', name: 'retry' })
      h.step({ type: 'socket-open' })
      return h.frame({
        t: 'welcome',
        session: { id: welcome.id ?? 's1', token: welcome.token ?? 'tok1' },
        resumed: welcome.resumed ?? false,
        node: 'n1',
        acked: welcome.acked ?? 0,
        heartbeatMs: 2000,
        timeoutMs: welcome.timeoutMs ?? 5000,
      })
    },
    take(): Effect<T>[] {
      const out = log
      log = []
      return out
    },
  }
  return h
}

export function writes(effects: Effect[]): ClientFrame[] {
  return effects.flatMap((e) => (e.type === 'write' ? [JSON.parse(e.text) as ClientFrame] : []))
}

export function emitted<K extends keyof ClientEvents>(effects: Effect[], event: K): ClientEvents[K][] {
  return effects.flatMap((e) => (e.type === 'emit' && e.event === event ? [e.payload as ClientEvents[K]] : []))
}

export function settled(effects: Effect[]): { ticket: unknown; code?: string }[] {
  return effects.flatMap((e) => (e.type === 'settle' ? [e.error ? { ticket: e.ticket, code: e.error.code } : { ticket: e.ticket }] : []))
}

export function timers(effects: Effect[], name: 'retry' | 'silence'): (number | null)[] {
  return effects.flatMap((e) => (e.type === 'timer' && e.name === name ? [e.ms] : []))
}

export function msg(topic: string, offset: number, data: unknown = offset, epoch = 'e1') {
  return { t: 'msg', topic, offset, epoch, data }
}
