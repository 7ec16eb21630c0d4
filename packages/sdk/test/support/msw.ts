/**
 * msw intercepts WebSocket only if a global WebSocket exists when `listen()` runs (Node 20 has none), so the
 * `ws` package's class is installed first; the SDK reads the global at each connect, after msw patched it.
 */
import { WebSocket } from 'ws'
import { setupServer } from 'msw/node'

if (typeof (globalThis as { WebSocket?: unknown }).WebSocket !== 'function') {
  ;(globalThis as { WebSocket?: unknown }).WebSocket = WebSocket
}

export const mswServer = setupServer()
