/**
 * A network switch for Node SDK clients: a WebSocket constructor (pass it as `WebSocket`) whose sockets can be
 * cut all at once, and which fails every new connection while off, as a laptop going offline does.
 */
import WebSocket from 'ws'
import type { WebSocketConstructor } from '@lifeline/sdk'

/** Nothing listens on port 9 (discard) on a test machine: a connection there is refused at once. */
const UNREACHABLE = 'ws://127.0.0.1:9/'

export interface NetworkSwitch {
  WebSocket: WebSocketConstructor
  readonly online: boolean
  /** Terminates every open socket (no close frame: a cable pulled) and refuses new ones. */
  cut(): void
  /** New connections go through again. */
  restore(): void
}

export function networkSwitch(): NetworkSwitch {
  const open = new Set<WebSocket>()
  let online = true
  class SwitchedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(online ? url : UNREACHABLE, protocols)
      open.add(this)
      this.once('close', () => open.delete(this))
    }
  }
  return {
    WebSocket: SwitchedWebSocket as unknown as WebSocketConstructor,
    get online() {
      return online
    },
    cut() {
      online = false
      for (const ws of open) ws.terminate()
    },
    restore() {
      online = true
    },
  }
}
