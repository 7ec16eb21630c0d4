/**
 * A network switch for one client: a `ws` WebSocket class to inject (both the SDK and partysocket take a
 * WebSocket constructor). `offline()` cuts every open socket (as a dropped Wi-Fi would: close 1006) and makes
 * new ones fail to connect, by aiming them at a loopback port nothing listens on; `online()` restores it.
 */
import WS from 'ws'
import { createServer } from 'node:net'

export async function offlineSwitch() {
  const deadPort = await new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
  let offline = false
  const live = new Set()
  class SwitchedWebSocket extends WS {
    constructor(url, protocols, options) {
      super(offline ? `ws://127.0.0.1:${deadPort}/` : url, protocols, options)
      live.add(this)
      this.once('close', () => live.delete(this))
    }
  }
  return {
    WebSocket: SwitchedWebSocket,
    offline() {
      offline = true
      for (const ws of live) ws.terminate()
    },
    online() {
      offline = false
    },
  }
}
