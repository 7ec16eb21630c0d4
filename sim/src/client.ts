/**
 * A simulated page: the real SDK session core (packages/sdk/src/core.ts) with the sim's counterpart of the
 * SDK's client.ts around it: timers on the virtual clock, a link instead of a WebSocket, and persistence into
 * a storage object through the real storage.ts, so a reload or a duplicated tab restores exactly what the SDK
 * saved. The page outlives its client instances: a reload replaces the instance and keeps the storage.
 */
import { SessionCore, type Effect, type Input, type TimerName } from '../../packages/sdk/src/core.js'
import { resolveOptions } from '../../packages/sdk/src/options.js'
import { load, memoryStorage, saveOutbox, saveSession } from '../../packages/sdk/src/storage.js'
import type { StorageLike } from '../../packages/sdk/src/types.js'
import type { Clock, Random, Timer } from './clock.js'
import type { Link } from './net.js'

const KEY = 'lifeline:sim'

export interface Ticket {
  stream: string
  n: number
}

/** What a client instance tells the world. */
export interface ClientWorld {
  clock: Clock
  /** Open a link to a node through the balancer (`url` may carry `?sid=`); the result comes as socket events. */
  connect(client: SimClient, url: string): void
  event(client: SimClient, e: Extract<Effect, { type: 'emit' }>): void
  settled(client: SimClient, ticket: Ticket, error: string | undefined): void
  wrote(client: SimClient, text: string): void
}

export class SimClient {
  readonly core: SessionCore
  link: Link | undefined
  /** Closed by a reload or the end of the page: its events no longer count. */
  gone = false
  offline = false
  private readonly timers = new Map<TimerName, Timer>()
  readonly pending = new Map<string, Ticket>()

  constructor(
    readonly page: string,
    /** Which instance of the page this is: 0 for the first, then one more per reload. */
    readonly incarnation: number,
    readonly storage: StorageLike,
    private readonly world: ClientWorld,
    random: Random,
  ) {
    const o = resolveOptions({ url: 'ws://sim.lifeline.test', now: () => world.clock.now, random: () => random.next() })
    this.core = new SessionCore(o, load(storage, KEY))
  }

  /** A copy of a storage, as a duplicated tab's sessionStorage. */
  static copyStorage(from: StorageLike): StorageLike {
    const to = memoryStorage()
    for (const part of ['session', 'outbox']) {
      const v = from.getItem(`${KEY}:${part}`)
      if (v !== null) to.setItem(`${KEY}:${part}`, v)
    }
    return to
  }

  input(i: Input): void {
    if (this.gone) return
    for (const e of this.core.handle(i)) this.exec(e)
  }

  publish(topic: string, ticket: Ticket, data: unknown): void {
    this.pending.set(`${ticket.stream}#${ticket.n}`, ticket)
    this.input({ type: 'publish', topic, data, ticket })
  }

  send(ticket: Ticket, data: unknown): void {
    this.pending.set(`${ticket.stream}#${ticket.n}`, ticket)
    this.input({ type: 'send', data, ticket })
  }

  /** The page goes away (reload, tab closed): the socket closes, nothing of this instance runs again. */
  leave(): void {
    this.gone = true
    for (const t of this.timers.values()) t.cancel()
    this.link?.closeByClient()
    this.link = undefined
  }

  // ------------------------------------------------------------------ socket events (from the world)

  opened(link: Link): void {
    if (this.gone || this.link !== link) return
    this.input({ type: 'socket-open' })
  }

  frame(link: Link, text: string): void {
    if (this.link !== link) return
    this.input({ type: 'socket-frame', text })
  }

  closed(link: Link, code: number, reason: string): void {
    if (this.link !== link) return
    this.link = undefined
    this.input({ type: 'socket-close', code, reason })
  }

  private exec(e: Effect): void {
    switch (e.type) {
      case 'connect':
        this.link = undefined
        return this.world.connect(this, e.url)
      case 'disconnect': {
        const link = this.link
        this.link = undefined
        return link?.closeByClient()
      }
      case 'write':
        this.world.wrote(this, e.text)
        return this.link?.send(e.text)
      case 'timer': {
        this.timers.get(e.name)?.cancel()
        this.timers.delete(e.name)
        // As Node's setTimeout: a delay under 1 ms is 1 ms (else a timer re-armed for the remainder could spin).
        if (e.ms !== null) this.timers.set(e.name, this.world.clock.after(Math.max(1, e.ms), () => (this.timers.delete(e.name), this.input({ type: 'timer', name: e.name }))))
        return
      }
      case 'emit':
        return this.world.event(this, e)
      case 'settle': {
        const t = e.ticket as Ticket
        this.pending.delete(`${t.stream}#${t.n}`)
        return this.world.settled(this, t, e.error?.code)
      }
      case 'subscribed':
        return
      case 'persist': {
        const s = this.core.session
        if (e.part === 'outbox') return saveOutbox(this.storage, KEY, s.outbox.entries, s.outbox.lastSeq)
        return saveSession(this.storage, KEY, s.sessionId, s.token, s.positions.toJSON())
      }
    }
  }
}
