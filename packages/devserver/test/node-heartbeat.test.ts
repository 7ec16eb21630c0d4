/**
 * The heartbeat on one node, with raw `ws` clients on 127.0.0.1, port 0: the node pings every heartbeatMs,
 * closes a client silent for timeoutMs with 4408, and keeps one that answers.
 */
import { describe, expect, it } from 'vitest'
import { CloseCode } from '@lifeline/protocol'
import { useNodes } from './support/nodes.js'

const { start, connect } = useNodes({ secret: 'test-secret' })

describe('node: heartbeat', () => {
  it('pings every heartbeatMs and closes a silent client with 4408', async () => {
    const c = await connect(await start({ heartbeatMs: 100, timeoutMs: 400 }))
    await c.hello({})
    c.autoPong = false
    await c.next((f) => f.t === 'ping')
    const started = Date.now()
    expect((await c.closed).code).toBe(CloseCode.HEARTBEAT_TIMEOUT)
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it('keeps a client that answers pings', async () => {
    const c = await connect(await start({ heartbeatMs: 50, timeoutMs: 200 }))
    await c.hello({})
    await c.until(() => c.frames.filter((f) => f.t === 'ping').length >= 8)
    expect(c.ws.readyState).toBe(c.ws.OPEN)
  })
})
