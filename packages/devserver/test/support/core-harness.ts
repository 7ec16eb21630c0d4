/**
 * Drives the node's pure connection core on a fake clock: no socket, no timer. Effects are recorded as data;
 * store calls are answered by a real MemoryStore (on the same fake clock) when the test says so, so a test can
 * hold a reply back and act in between (a drain while an apply is in flight, a live message during a replay).
 */
import { afterEach } from 'vitest'
import type { ServerFrame } from '@lifeline/protocol'
import { ConnectionCore } from '../../src/node/core/connection.js'
import type { CoreConfig, Effect, Input } from '../../src/node/core/types.js'
import { MemoryStore } from '../../src/store/memory.js'
import type { StoredMessage } from '../../src/store/types.js'

export const CONFIG: CoreConfig = {
  node: 'core-1',
  secret: 'core-secret',
  heartbeatMs: 2_000,
  timeoutMs: 5_000,
  sessionTtlMs: 120_000,
  maxFrameBytes: 1024 * 1024,
  maxSubscriptions: 1_000,
  rateLimit: { perSecond: 1_000, burst: 2_000 },
  authorize: false,
  ids: { session: () => `s${++ids}`, generation: () => ++ids * 1_000 },
}
let ids = 0

export type Harness = ReturnType<typeof coreHarness>

export function coreHarness(config: Partial<CoreConfig> = {}) {
  const clock = { t: 1_000_000 }
  const store = new MemoryStore({ now: () => clock.t })
  const core = new ConnectionCore({ ...CONFIG, ...config }, clock.t)
  const effects: Effect[] = []
  const calls: Extract<Effect, { type: 'store' }>[] = []
  const listening = new Map<string, () => void>()
  let buffered = 0

  const h = {
    core,
    clock,
    store,
    effects,
    /** Output the socket has not sent yet, as the adapter would report it. */
    set buffered(n: number) {
      buffered = n
    },
    step(input: Input): Effect[] {
      const out = core.handle(input, { now: clock.t, buffered })
      effects.push(...out)
      for (const e of out) {
        if (e.type === 'store') calls.push(e)
        if (e.type === 'listen') listening.set(e.topic, store.subscribe(e.topic, (message) => h.live(message)))
        if (e.type === 'unlisten') listening.get(e.topic)?.(), listening.delete(e.topic)
      }
      return out
    },
    live(message: StoredMessage): void {
      h.step({ type: 'live', message })
    },
    frame(f: object | string): Effect[] {
      const text = typeof f === 'string' ? f : JSON.stringify(f)
      return h.step({ type: 'frame', text, bytes: Buffer.byteLength(text) })
    },
    /** Store calls asked for and not yet answered. */
    get pending(): number {
      return calls.length
    },
    /** Answer the oldest `n` store calls (default: every one, including those their answers cause). */
    async answer(n = Infinity): Promise<void> {
      for (let i = 0; i < n && calls.length > 0; i++) {
        const c = calls.shift()!
        const method = (store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[c.call.method]!
        try {
          const value = await method.apply(store, c.call.args)
          h.step({ type: 'store', id: c.id, ok: true, value })
        } catch (e) {
          h.step({ type: 'store', id: c.id, ok: false, error: (e as Error).message })
        }
      }
    },
    /** Fail the oldest store call, as a store that did not answer. */
    fail(error = 'no reply in time'): void {
      const c = calls.shift()!
      h.step({ type: 'store', id: c.id, ok: false, error })
    },
    /** Frames sent so far, decoded. */
    sent(): ServerFrame[] {
      return effects.flatMap((e) => (e.type === 'send' ? [JSON.parse(e.text) as ServerFrame] : e.type === 'close' && e.final ? [JSON.parse(e.final) as ServerFrame] : []))
    },
    closes(): { code: number; reason: string }[] {
      return effects.flatMap((e) => (e.type === 'close' ? [{ code: e.code, reason: e.reason }] : []))
    },
    /** hello, then every store call answered: the welcome. */
    async open(subs: Record<string, { offset: number; epoch: string } | null> = { '@inbox': null }): Promise<ServerFrame> {
      h.frame({ t: 'hello', v: 1, instance: 'i1', attempt: 1, subs })
      await h.answer()
      return h.sent().find((f) => f.t === 'welcome')!
    },
    close(): Promise<void> {
      for (const off of listening.values()) off()
      return store.close()
    },
  }
  return h
}

/**
 * `coreHarness` for a test file: each harness it makes is closed after its test (vitest's afterEach, registered
 * when the file calls this at its top level).
 */
export function closingHarnesses(): typeof coreHarness {
  const made: Harness[] = []
  afterEach(async () => {
    await Promise.all(made.splice(0).map((h) => h.close()))
  })
  return (...args) => {
    const h = coreHarness(...args)
    made.push(h)
    return h
  }
}
