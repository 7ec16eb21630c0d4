/**
 * A network switch for one client: a `ws` WebSocket class to inject (both the SDK and partysocket take a
 * WebSocket constructor). `offline()` cuts every open socket (as a dropped Wi-Fi would: close 1006) and makes
 * new ones fail to connect, by aiming them at a loopback port nothing listens on; `online()` restores it.
 */
import WS from 'ws'
import { createServer } from 'node:net'

export async function offlineSwitch() {
  /** @type {number} */
  const deadPort = await new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address())
      srv.close(() => resolve(port))
    })
  })
  let offline = false
  /** @type {Set<WS>} */
  const live = new Set()
  class SwitchedWebSocket extends WS {
    /**
     * @param {string | URL} url
     * @param {string | string[]} [protocols]
     * @param {WS.ClientOptions} [options]
     */
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
