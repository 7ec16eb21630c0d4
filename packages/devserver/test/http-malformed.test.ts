/**
 * Malformed HTTP against every port a real 2-node cluster listens on (the balancer, which also serves the admin
 * API, and each node's own port), sent over raw TCP so nothing normalises the bytes. The property: no request,
 * however broken, ends a process or goes unanswered; the cluster still serves afterwards. And a request head that
 * never ends (slowloris) is cut within seconds, not held for a minute. First, the parsing and the catch-all alone.
 */
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, type Cluster } from '../src/index.js'
import { createBalancer } from '../src/balancer/index.js'
import { parseHost, parseTarget, tryDecode } from '../src/http/parse.js'
import { requireBuilt } from './fixtures/built.js'
import { RawClient } from './fixtures/raw-client.js'
import { processAlive } from './support/processes.js'

/** What a connection ended with: the response status, or how it ended without one. */
type Outcome = number | 'closed' | 'reset' | 'timeout' | 'not-http'

interface Case {
  name: string
  bytes: string | Buffer
  /**
   * The honest answers on the balancer and on a node port. Default: any 4xx or a close, for bytes Node's parser
   * refuses (its exact status is Node's to choose). Named where our code decides: 400 for a target, Host or
   * escape it cannot read, 403/404 for a readable request it refuses, 101 where a WebSocket is rightly served.
   */
  balancer?: Outcome[]
  node?: Outcome[]
}

const UPGRADE = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n'
const KEY = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
const HOST = 'Host: localhost\r\n'

/** A fixed byte pattern that is no protocol at all (and starts like a TLS ClientHello, as a scanner's would). */
const junk = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]), Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + 7) % 256))])

const CORPUS: Case[] = [
  // A path we do not serve: the honest answer is 404 (`//[` is a path here, never a host).
  { name: 'GET //[', bytes: `GET //[ HTTP/1.1\r\n${HOST}\r\n`, balancer: [404] },
  { name: 'GET http://[', bytes: `GET http://[ HTTP/1.1\r\n${HOST}\r\n`, balancer: [400] },
  // The node's WebSocket server does not route by URL, so there the upgrade is served; the balancer must parse it.
  { name: 'upgrade GET http://[/ws', bytes: `GET http://[/ws HTTP/1.1\r\n${HOST}${UPGRADE}${KEY}\r\n`, balancer: [400], node: [101] },
  { name: 'GET nodes/%E0%A4%A', bytes: `GET /_lifeline/api/nodes/%E0%A4%A HTTP/1.1\r\n${HOST}\r\n`, balancer: [400] },
  { name: 'POST nodes/%E0%A4%A/kill', bytes: `POST /_lifeline/api/nodes/%E0%A4%A/kill HTTP/1.1\r\n${HOST}Content-Length: 0\r\n\r\n`, balancer: [400] },
  { name: 'DELETE nodes/%E0%A4%A', bytes: `DELETE /_lifeline/api/nodes/%E0%A4%A HTTP/1.1\r\n${HOST}\r\n`, balancer: [400] },
  { name: 'POST nodes/%ZZ/drain', bytes: `POST /_lifeline/api/nodes/%ZZ/drain HTTP/1.1\r\n${HOST}\r\n`, balancer: [400] },
  { name: 'GET sessions/%FF%FE', bytes: `GET /_lifeline/api/sessions/%FF%FE HTTP/1.1\r\n${HOST}\r\n`, balancer: [400] },
  { name: 'POST nodes/%', bytes: `POST /_lifeline/api/nodes/% HTTP/1.1\r\n${HOST}\r\n`, balancer: [400] },
  { name: 'GET api/%', bytes: `GET /_lifeline/api/% HTTP/1.1\r\n${HOST}\r\n`, balancer: [400] },
  { name: 'GET % (target is a lone %)', bytes: `GET % HTTP/1.1\r\n${HOST}\r\n` },
  { name: 'NUL in the path', bytes: `GET /_lifeline/api/nodes\0 HTTP/1.1\r\n${HOST}\r\n` },
  { name: 'NUL in a header value', bytes: `GET /_lifeline/api/nodes HTTP/1.1\r\nHost: local\0host\r\n\r\n` },
  { name: 'NUL in a header name', bytes: `GET /_lifeline/api/nodes HTTP/1.1\r\n${HOST}X-\0A: 1\r\n\r\n` },
  { name: 'lone CR inside a header value', bytes: `GET /_lifeline/api/nodes HTTP/1.1\r\n${HOST}X-A: a\rb\r\n\r\n` },
  { name: 'CR LF inside the request line', bytes: `GET /_lifeline/\r\napi/nodes HTTP/1.1\r\n${HOST}\r\n` },
  { name: 'LF-only line ends', bytes: `GET /_lifeline/api/nope HTTP/1.1\n${HOST.replace('\r', '')}\n` },
  { name: '100 KB header', bytes: `GET /_lifeline/api/nodes HTTP/1.1\r\n${HOST}X-Big: ${'a'.repeat(100_000)}\r\n\r\n` },
  { name: 'header without a colon', bytes: `GET /_lifeline/api/nodes HTTP/1.1\r\n${HOST}NoColonHere\r\n\r\n` },
  // Node's parser takes this for HTTP/0.9 and passes it on; we answer it 400.
  { name: 'request line with no version', bytes: `GET /_lifeline/api/nodes\r\n${HOST}\r\n`, balancer: [400], node: [400] },
  { name: 'unknown HTTP version', bytes: `GET /_lifeline/api/nodes HTTP/9.9\r\n${HOST}\r\n` },
  { name: 'unknown method', bytes: `BREW /_lifeline/api/nodes HTTP/1.1\r\n${HOST}\r\n` },
  { name: 'binary junk', bytes: junk },
  { name: 'Host: [', bytes: `GET /_lifeline/api/nodes HTTP/1.1\r\nHost: [\r\n\r\n`, balancer: [400] },
  { name: 'Host: localhost@attacker.example', bytes: `GET /_lifeline/api/nodes HTTP/1.1\r\nHost: localhost@attacker.example\r\n\r\n`, balancer: [400] },
  // An Origin that names no host is not this host: refused as cross-origin, before the route (n9 is no node).
  { name: 'Origin: http://[ on a POST', bytes: `POST /_lifeline/api/nodes/n9/kill HTTP/1.1\r\n${HOST}Origin: http://[\r\n\r\n`, balancer: [403] },
  { name: 'Content-Length and chunked at once', bytes: `POST /_lifeline/api/nodes/n9/kill HTTP/1.1\r\n${HOST}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc` },
  { name: 'chunked body that is not chunks', bytes: `POST /_lifeline/api/nodes/n9/kill HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\nZZ\r\nnot a chunk\r\n\r\n` },
  { name: 'upgrade, Sec-WebSocket-Key not base64', bytes: `GET / HTTP/1.1\r\n${HOST}${UPGRADE}Sec-WebSocket-Key: !!not base64!!\r\n\r\n` },
  { name: 'upgrade, Sec-WebSocket-Key too short', bytes: `GET / HTTP/1.1\r\n${HOST}${UPGRADE}Sec-WebSocket-Key: AAAA\r\n\r\n` },
  { name: 'upgrade, no Sec-WebSocket-Key', bytes: `GET / HTTP/1.1\r\n${HOST}${UPGRADE}\r\n` },
  { name: 'upgrade, Sec-WebSocket-Version 99', bytes: `GET / HTTP/1.1\r\n${HOST}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 99\r\n${KEY}\r\n` },
  // A sid is opaque (WHATWG query parsing keeps `%ZZ` as those three characters): routed, and served, like any other.
  { name: 'upgrade ?sid=%ZZ', bytes: `GET /?sid=%ZZ HTTP/1.1\r\n${HOST}${UPGRADE}${KEY}\r\n`, balancer: [101], node: [101] },
  // RFC 9112 §3.2.2: the authority of an absolute-form target is the request's host, whatever Host says.
  { name: 'absolute-form URL to another host', bytes: `GET http://other.example/_lifeline/api/nodes HTTP/1.1\r\n${HOST}\r\n`, balancer: [403] },
]

const clientError = (o: Outcome): boolean => o === 'closed' || (typeof o === 'number' && o >= 400 && o < 500)

/** Sends `bytes` on a fresh connection; resolves with the status line's code, or how the connection ended. */
function send(port: number, bytes: string | Buffer, waitMs = 3_000): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    let seen = Buffer.alloc(0)
    const done = (outcome: Outcome): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(outcome)
    }
    const timer = setTimeout(() => done('timeout'), waitMs)
    socket.on('connect', () => socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes))
    socket.on('data', (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk])
      const eol = seen.indexOf('\r\n')
      if (eol < 0) return
      const status = /^HTTP\/1\.[01] (\d{3}) /.exec(seen.subarray(0, eol).toString('latin1'))
      done(status ? Number(status[1]) : 'not-http')
    })
    // The server may answer and close while our 100 KB are still going out: that arrives as a reset.
    socket.on('error', () => done(seen.length > 0 ? 'not-http' : 'reset'))
    socket.on('close', () => done(seen.length > 0 ? 'not-http' : 'closed'))
  })
}

/** Sends a request head that never ends; resolves with how long the server held the socket (or `capMs`). */
function holdOpen(port: number, capMs: number): Promise<{ ms: number; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    const start = Date.now()
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({ ms: Date.now() - start, closed: false })
    }, capMs)
    socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n'))
    socket.on('data', () => {}) // a 408 may come first; it is the close that frees the server's socket
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      resolve({ ms: Date.now() - start, closed: true })
    })
  })
}

describe('parsing client input', () => {
  it('reads an origin-form target as a path, never as a host', () => {
    expect(parseTarget('//[')?.url.pathname).toBe('//[')
    expect(parseTarget('//attacker.example/_lifeline/api/nodes')).toMatchObject({ url: { pathname: '//attacker.example/_lifeline/api/nodes' }, authority: undefined })
    expect(parseTarget('/?sid=%ZZ')?.url.searchParams.get('sid')).toBe('%ZZ')
    expect(parseTarget('http://Other.Example:80/x')).toMatchObject({ url: { pathname: '/x' }, authority: 'other.example' })
    for (const bad of ['http://[', 'http://[/ws', '*', 'localhost:80', '%', '', undefined]) expect(parseTarget(bad), String(bad)).toBeUndefined()
  })

  it('reads Host as a host and a port only', () => {
    expect(parseHost('LOCALHOST:80')).toEqual({ hostname: 'localhost', host: 'localhost' })
    expect(parseHost('[0:0::1]:9')).toEqual({ hostname: '[::1]', host: '[::1]:9' })
    expect(parseHost('127.1')).toEqual({ hostname: '127.0.0.1', host: '127.0.0.1' })
    for (const bad of ['[', 'localhost@attacker.example', 'attacker.example/x', 'a:b:c', 'localhost:99999', 'local host', '', undefined]) {
      expect(parseHost(bad), String(bad)).toBeUndefined()
    }
  })

  it('decodes percent-escapes, or says it cannot', () => {
    expect(tryDecode('n%201')).toBe('n 1')
    for (const bad of ['%', '%ZZ', '%E0%A4%A', '%FF']) expect(tryDecode(bad), bad).toBeUndefined()
  })
})

describe('a request handler that throws', () => {
  it('is answered 500 and logged in one line, and the balancer keeps serving', async () => {
    const lines: string[] = []
    let calls = 0
    const balancer = await createBalancer({
      onRequest: (req) => {
        calls++
        if (req.url === '/async') return Promise.reject(new Error('async boom'))
        throw new Error('boom')
      },
      log: (line) => lines.push(line),
    })
    try {
      const base = `http://127.0.0.1:${balancer.port}`
      for (const path of ['/sync', '/async', '/sync']) {
        const res = await fetch(base + path)
        expect(res.status, path).toBe(500)
        expect(await res.json()).toMatchObject({ error: { code: 'INTERNAL', message: expect.stringContaining('boom') } })
      }
      expect(calls).toBe(3)
      expect(lines).toHaveLength(3)
      expect(lines[1]).toMatch(/^\[balancer\] GET "\/async" failed: Error: async boom .*answered 500$/)
    } finally {
      await balancer.close()
    }
  })
})

let cluster: Cluster
/** Errors no handler caught. In a plain `node` process each of these would have ended the supervisor. */
const uncaught: unknown[] = []
const onUncaught = (e: unknown): void => void uncaught.push(e)

beforeAll(async () => {
  requireBuilt()
  process.on('uncaughtException', onUncaught)
  process.on('unhandledRejection', onUncaught)
  cluster = await startCluster({ nodes: 2, port: 0, log: () => {} })
})
afterAll(async () => {
  await cluster?.stop()
  process.off('uncaughtException', onUncaught)
  process.off('unhandledRejection', onUncaught)
})

describe('malformed HTTP', () => {
  it('is answered 4xx (or closed) on every port, and ends no process', async () => {
    const balancerPort = Number(new URL(cluster.url).port)
    const ports = [
      { label: 'balancer', port: balancerPort, kind: 'balancer' as const },
      ...cluster.nodes.map((n) => ({ label: n.id, port: n.port as number, kind: 'node' as const })),
    ]
    const pids = cluster.nodes.map((n) => n.pid as number)
    const results = await Promise.all(
      ports.flatMap((p) => CORPUS.map(async (c) => ({ ...p, name: c.name, allowed: c[p.kind], outcome: await send(p.port, c.bytes) }))),
    )

    const summary = ports.map((p) => {
      const counts: Record<string, number> = {}
      for (const r of results.filter((r) => r.port === p.port)) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1
      const seen = Object.entries(counts).map(([o, n]) => `${o}×${n}`).join(' ')
      return `${p.label}:${p.port} ${CORPUS.length} sent (${seen})`
    })
    console.log(`malformed HTTP: ${summary.join('; ')}`)

    expect.soft(uncaught.map((e) => (e as Error)?.stack ?? String(e))).toEqual([])
    expect.soft(pids.filter((pid) => !processAlive(pid))).toEqual([])
    const wrong = results.filter((r) => (r.allowed ? !r.allowed.includes(r.outcome) : !clientError(r.outcome) && !(r.name === '100 KB header' && r.outcome === 'reset')))
    expect.soft(wrong.map((r) => `${r.label} ${r.name}: ${r.outcome}${r.allowed ? ` (expected ${r.allowed.join('|')})` : ''}`)).toEqual([])

    // Still serving: a real client gets a welcome through the balancer, and the admin API answers.
    const s = await RawClient.welcomed(cluster.url)
    expect(s.welcome.session.id).toEqual(expect.any(String))
    s.close()
    const list = await fetch(cluster.adminUrl + '/nodes')
    expect(list.status).toBe(200)
    expect(((await list.json()) as { nodes: { status: string }[] }).nodes.map((n) => n.status)).toEqual(['up', 'up'])
  })
})

describe('a request head that never ends (slowloris)', () => {
  it('is cut within seconds on the balancer and on a node port', async () => {
    const targets = [
      { label: 'balancer', port: Number(new URL(cluster.url).port) },
      { label: 'n1', port: cluster.nodes[0]?.port as number },
    ]
    const held = await Promise.all(targets.map(async (t) => ({ ...t, ...(await holdOpen(t.port, 10_000)) })))
    console.log(`slowloris: ${held.map((h) => `${h.label} ${h.closed ? `closed after ${h.ms} ms` : `still open after ${h.ms} ms`}`).join('; ')}`)
    for (const h of held) {
      expect({ label: h.label, closed: h.closed }).toEqual({ label: h.label, closed: true })
      expect(h.ms).toBeLessThan(8_000)
    }
  }, 20_000)
})
