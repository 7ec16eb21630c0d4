/**
 * A TCP proxy between the page and the cluster that can cut the line, like a Wi-Fi drop or a NAT timeout:
 * `cut()` resets every open connection and refuses new ones until `restore()`.
 *
 * Why it exists: Chromium's `context.setOffline(true)` does not close an already-open WebSocket; it holds its
 * frames and delivers them when the context goes back online (measured with Chromium 156). An app whose
 * laptop really went offline would lose that socket, so the offline spec pairs setOffline with this cut.
 */
import net from 'node:net'
import type { AddressInfo } from 'node:net'

export class CutProxy {
  private readonly sockets = new Set<net.Socket>()
  private isCut = false
  private constructor(
    private readonly server: net.Server,
    readonly url: string,
  ) {}

  /** Listens on a free port and forwards to `target` (a ws:// URL); `url` is the same URL on the proxy's port. */
  static async start(target: string): Promise<CutProxy> {
    const to = new URL(target)
    const server = net.createServer()
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
    const via = new URL(target)
    via.hostname = '127.0.0.1'
    via.port = String((server.address() as AddressInfo).port)
    const proxy = new CutProxy(server, via.toString().replace(/\/$/, ''))
    server.on('connection', (client) => proxy.accept(client, to.hostname, Number(to.port)))
    return proxy
  }

  /** Resets every connection through the proxy and refuses new ones. */
  cut(): void {
    this.isCut = true
    for (const socket of this.sockets) socket.resetAndDestroy()
    this.sockets.clear()
  }

  restore(): void {
    this.isCut = false
  }

  get connections(): number {
    return this.sockets.size / 2
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(client: net.Socket, host: string, port: number): void {
    if (this.isCut) return void client.resetAndDestroy()
    const upstream = net.connect(port, host)
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(a)
      a.pipe(b)
      // Either side going away takes the other with it, as a real broken path would.
      a.on('error', () => b.destroy())
      a.on('close', () => {
        this.sockets.delete(a)
        b.destroy()
      })
    }
  }
}
