/**
 * What every http.Server this package creates shares (the balancer's; a node's own when the app gave none):
 * timeouts that free a socket whose request never ends, an answer for bytes that are not HTTP, and a catch-all
 * around request handlers. Together: no request, however malformed, ends the process or goes unanswered.
 * A server an app passes in is the app's to configure; nothing here touches it.
 *
 * Error bodies use the codes of ../errors.ts, the one list a client reads (BAD_REQUEST, INTERNAL here).
 */
import { maxHeaderSize, STATUS_CODES, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { ClusterErrorCode } from '../errors.js'
import { quoteInput } from './parse.js'

/** `http.createServer` options for every server we create. */
export const SERVER_OPTIONS = {
  // A browser sends its request head in one packet; 5 s covers a slow mobile link. Node's default is 60 s: a
  // client that sends half a head and stops (slowloris) would hold a socket for a minute.
  headersTimeout: 5_000,
  // Head and body: ours are tiny (an admin POST's body, an impairment, is a few hundred bytes). Counted until the
  // request is in, not until we answer, so a slow admin action (adding a node takes seconds) is not cut.
  requestTimeout: 10_000,
  // How often the two above are enforced. Node's default is 30 s, which lets a 5 s timeout take up to 35.
  connectionsCheckingInterval: 1_000,
} satisfies ServerOptions

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>

/**
 * A request handler that cannot take the process down: whatever it throws or rejects with is logged in one
 * line and answered 500 (input is parsed with ./parse.ts, which never throws, so a throw is our bug). A request
 * line without a version (HTTP/0.9, which Node's parser accepts) is answered 400 before the handler sees it.
 */
export function guardRequest(handler: Handler, log: (line: string) => void): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const fail = (e: unknown): void => {
      const where = e instanceof Error ? (e.stack?.split('\n')[1]?.trim() ?? '') : ''
      log(`${req.method ?? '?'} ${quoteInput(req.url)} failed: ${String(e)}${where ? ` (${where})` : ''}; answered 500`)
      if (res.writableEnded) return
      if (res.headersSent) return void res.destroy() // half an answer went out: cut it rather than let it hang
      answer(res, 500, ClusterErrorCode.INTERNAL, `the server failed on this request (${String(e)}); it is logged, and the server keeps serving`)
    }
    if (req.httpVersionMajor < 1) {
      return answer(res, 400, ClusterErrorCode.BAD_REQUEST, 'the request line has no HTTP version; send HTTP/1.1')
    }
    try {
      const done = handler(req, res)
      if (done instanceof Promise) done.catch(fail)
    } catch (e) {
      fail(e)
    }
  }
}

/**
 * The `clientError` listener: bytes Node's parser refused (a garbage request line, a NUL, a 100 KB header) or a
 * timeout above. Answered once and closed, with the status Node's own default would give (400, 408, 431) and a
 * body saying what was wrong; a client that is already gone (ECONNRESET) is only let go.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy()
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
  const message =
    status === 431 ? `the request head is over ${maxHeaderSize / 1024} KB` :
    status === 408 ? `the request was not received within ${SERVER_OPTIONS.headersTimeout / 1000} s (head) or ${SERVER_OPTIONS.requestTimeout / 1000} s (whole)` :
    `this is not an HTTP/1.1 request the parser can read (${error.code ?? error.message})`
  const body = JSON.stringify({ error: { code: ClusterErrorCode.BAD_REQUEST, message } })
  // Destroyed once written: half-closed, a socket would stay ours for as long as the client keeps its side open.
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  )
}

function answer(res: ServerResponse, status: number, code: string, message: string): void {
  try {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', connection: 'close' })
    res.end(JSON.stringify({ error: { code, message } }))
  } catch {
    res.destroy() // headers half-written by the handler that failed: nothing sane can follow them
  }
}
