/**
 * Reading a request body, bounded: what a client sends is read only up to `max` bytes, so a body of any size
 * costs at most that much memory. Used by the HTTP API (api/handler.ts) and the admin API (admin/api.ts).
 */
import type { IncomingMessage } from 'node:http'

/**
 * The body as text, or undefined once it passes `max` bytes (nothing more is read: answer, and close the
 * connection, since the rest of the request is still in it). A declared Content-Length over `max` is refused
 * before a byte is read.
 */
export function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > max) return Promise.resolve(undefined)
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > max) {
        req.removeAllListeners('data')
        req.pause()
        return resolve(undefined)
      }
      chunks.push(chunk)
    })
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.once('error', reject)
  })
}
