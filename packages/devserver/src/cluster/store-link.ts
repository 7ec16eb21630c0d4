/**
 * The supervisor's end of one node process's store link: a Unix socket in a private directory (mode 0700)
 * that only that node connects to, once, serving the supervisor's store over it (store/ipc-socket.ts says why
 * this is not the fork() channel). The node finds it in LIFELINE_STORE_SOCKET.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { hostIpcStore } from '../store/ipc-host.js'
import { socketEndpoint, type SocketEndpoint } from '../store/ipc-socket.js'
import type { Store } from '../store/types.js'

export const STORE_SOCKET_ENV = 'LIFELINE_STORE_SOCKET'

export class StoreLink {
  readonly path: string
  private readonly dir: string | undefined
  private readonly server: Server
  private endpoint: SocketEndpoint | undefined
  private detach: () => void = () => {}

  constructor(store: Store) {
    if (process.platform === 'win32') {
      this.path = `\\\\.\\pipe\\lifeline-store-${randomBytes(8).toString('hex')}`
    } else {
      this.dir = mkdtempSync(join(tmpdir(), 'lifeline-'))
      this.path = join(this.dir, 'store.sock')
    }
    this.server = createServer((socket) => {
      // One node, one connection: no one else can connect once it has.
      this.server.close()
      if (this.endpoint) return void socket.destroy()
      this.endpoint = socketEndpoint(socket)
      this.detach = hostIpcStore(store, this.endpoint)
    })
    // Binding a Unix socket is synchronous: the path exists when this returns, before the node is forked.
    this.server.listen(this.path)
    this.server.on('error', () => {})
  }

  /** The node is gone: stop serving it, and leave nothing behind in the temp directory. */
  close(): void {
    this.server.close()
    this.detach()
    this.endpoint?.close()
    if (this.dir) rmSync(this.dir, { recursive: true, force: true })
  }
}
