/**
 * An IPC channel over a stream socket (a private Unix socket; a named pipe on Windows): newline-delimited
 * JSON, the framing and serialisation of Node's own fork() channel, behind the same IpcEndpoint shape, so the
 * IPC store (ipc-client.ts, ipc-host.ts) runs over either unchanged.
 *
 * Why a second channel at all: the cluster's balancer passes client sockets to a node over the fork() channel
 * (balancer/handoff.ts), and Node sends nothing else on a channel while a passed socket awaits the child's
 * acknowledgement. On one channel every store reply to a node waited behind the handoffs of a reconnect herd
 * (the bench's hello → welcome p50 went from ~30 ms to 80–210 ms); on its own socket it does not.
 */
import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import type { IpcEndpoint } from './ipc-protocol.js'

/**
 * Longest message accepted, in characters. The peer is our own process, so this only keeps a bug from
 * growing the buffer without bound: 64 Mi is far above any store reply (a read is at most 256 messages).
 */
const MAX_LINE = 64 * 1024 * 1024

export interface SocketEndpoint extends IpcEndpoint {
  send(message: unknown, callback?: (error: Error | null) => void): boolean
  readonly connected: boolean
  close(): void
}

export function socketEndpoint(socket: Socket): SocketEndpoint {
  const events = new EventEmitter()
  let connected = true
  let partial = ''
  const disconnect = (): void => {
    if (!connected) return
    connected = false
    events.emit('disconnect')
  }
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    let start = 0
    for (let end = chunk.indexOf('\n'); end >= 0; end = chunk.indexOf('\n', start)) {
      const line = partial + chunk.slice(start, end)
      partial = ''
      start = end + 1
      let message: unknown
      try {
        message = JSON.parse(line)
      } catch {
        continue // not ours to guess at; each side ignores what it cannot read, like fork()'s channel users do
      }
      events.emit('message', message)
    }
    partial += chunk.slice(start)
    if (partial.length > MAX_LINE) socket.destroy(new Error(`IPC message over ${MAX_LINE} characters`))
  })
  socket.on('error', () => {}) // 'close' follows: the peer is gone
  socket.on('close', disconnect)
  return {
    get connected() {
      return connected && !socket.destroyed
    },
    send(message, callback) {
      if (!connected || socket.destroyed) {
        callback?.(new Error('IPC socket closed'))
        return false
      }
      return socket.write(`${JSON.stringify(message)}\n`, (err) => callback?.(err ?? null))
    },
    on(event: string, listener: (...args: unknown[]) => void) {
      events.on(event, listener)
      return this
    },
    off(event: string, listener: (...args: unknown[]) => void) {
      events.off(event, listener)
      return this
    },
    close() {
      socket.end()
      disconnect()
    },
  } as SocketEndpoint
}
