/** msw-routed FakeServers for the client tests, with the cleanup that keeps one test's sockets out of the next. */
import { mswServer } from './msw.js'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { FakeServer } from './fake-server.js'

export interface FakeServers {
  /** A FakeServer named `name`, routed by msw; stopped after this test. */
  serve(name: string): FakeServer
  /** Closes `client` after this test, before its servers stop; returns it. */
  track<C extends { close(): Promise<void> }>(client: C): C
}

/** Registers the hooks: msw listens for the file (unhandled requests fail), and each test's clients and servers go after it. */
export function useFakeServers(): FakeServers {
  const servers: FakeServer[] = []
  const clients: { close(): Promise<void> }[] = []
  beforeAll(() => mswServer.listen({ onUnhandledRequest: 'error' }))
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()))
    for (const s of servers.splice(0)) s.stop()
    mswServer.resetHandlers()
  })
  afterAll(() => mswServer.close())
  return {
    serve(name) {
      const srv = new FakeServer(name)
      servers.push(srv)
      mswServer.use(srv.handler)
      return srv
    },
    track(client) {
      clients.push(client)
      return client
    },
  }
}
