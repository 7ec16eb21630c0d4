/**
 * The node as a library inside an app, spoken to by raw `ws` clients on 127.0.0.1, port 0: `authorize`
 * refusing a hello (4401 with its reason) and reading the upgrade request, the node attached to the app's own
 * http.Server, and publishing from app code to a topic or one session's inbox.
 */
import { describe, expect, it } from 'vitest'
import { CloseCode } from '@lifeline/protocol'
import type { LifelineNode } from '../src/node/node.js'
import { useNodes } from './support/nodes.js'

const { start, connect } = useNodes({ secret: 'test-secret' })

describe('node: authorize', () => {
  it('closes 4401 with the reason when authorize refuses', async () => {
    const node = await start({ authorize: (hello) => (hello.subs['vip'] === undefined ? 'vip only' : true) })
    const no = await connect(node)
    no.sendHello({})
    expect(await no.closed).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'vip only' })
    const yes = await connect(node)
    expect((await yes.hello({ vip: null })).resumed).toBe(false)
  })

  it('gives authorize the upgrade request (an app checks a cookie or a query key)', async () => {
    const node = await start({ authorize: (_hello, req) => (new URL(req.url ?? '/', 'http://x').searchParams.get('key') === 'k1' ? true : 'bad key') })
    const no = await connect(`${node.url}?key=nope`)
    no.sendHello({})
    expect(await no.closed).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'bad key' })
    const yes = await connect(`${node.url}?key=k1`)
    expect((await yes.hello({})).resumed).toBe(false)
  })
})

describe('node: embedded in an app', () => {
  it('attaches to an existing http.Server: the app keeps its routes, healthz via handleHealth, ws on its path', async () => {
    const { createServer } = await import('node:http')
    let node: LifelineNode | undefined
    const app = createServer((req, res) => {
      if (node?.handleHealth(req, res)) return
      res.end('app page')
    })
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r))
    node = await start({ server: app, path: '/live' })
    const port = node.port
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('app page')
    expect((await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).status).toBe('ok')
    const c = await connect(`ws://127.0.0.1:${port}/live?sid=x`)
    expect((await c.hello({})).resumed).toBe(false)
    await node.close()
    // The app's server is the app's: close() leaves it listening.
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('app page')
    await new Promise((r) => app.close(r))
  })
})

describe('node: server-side publish', () => {
  it('publishes from app code to a topic and to one session inbox', async () => {
    const node = await start()
    const c = await connect(node)
    const w = await c.hello({ '@inbox': null, news: null })
    await c.until(() => c.frames.filter((f) => f.t === 'subscribed').length === 2)
    await node.publish('news', 'headline')
    await node.sendToSession(w.session.id, 'just for you')
    await expect(node.publish('@inbox', 'x')).rejects.toThrow(/reserved/)
    await c.until(() => c.msgs('news').length === 1 && c.msgs('@inbox').length === 1)
    expect(c.msgs('@inbox')[0]!.data).toBe('just for you')
  })
})
