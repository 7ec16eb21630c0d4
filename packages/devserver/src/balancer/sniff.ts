/**
 * Learns which session a proxied connection carries by reading the node's `welcome` frame as it passes through.
 * Why sniff rather than trust `?sid=`: a brand-new session has no sid in its URL, and a client resuming an
 * expired session gets a new id; `welcome.session.id` is the truth. The bytes are only read, never changed.
 *
 * Pure: bytes in, a verdict out (as ws's receiver is), so it is tested with literal buffers.
 */

export type SniffResult =
  | { state: 'more' }
  | { state: 'found'; sessionId: string; node: string | undefined }
  /** Not a 101, a compressed or fragmented frame, or nothing within the limit: stop looking. */
  | { state: 'give-up' }

/** Stop looking after this many bytes: a welcome frame is a few hundred bytes, right after the 101 response. */
const SNIFF_LIMIT_BYTES = 16 * 1024

const HEAD_END = Buffer.from('\r\n\r\n')

/** `data`: everything the node sent on this connection so far (concatenated). */
export function sniffWelcome(data: Buffer): SniffResult {
  const headEnd = data.indexOf(HEAD_END)
  if (headEnd < 0) return data.length > SNIFF_LIMIT_BYTES ? { state: 'give-up' } : { state: 'more' }
  const statusLine = data.subarray(0, data.indexOf('\r\n')).toString('latin1')
  if (!/^HTTP\/1\.1 101 /.test(statusLine)) return { state: 'give-up' }
  let at = headEnd + HEAD_END.length
  // Skip control frames (a ping could come first); the first text frame must be the welcome.
  for (;;) {
    const frame = readFrame(data, at)
    if (frame === 'more') return data.length > SNIFF_LIMIT_BYTES ? { state: 'give-up' } : { state: 'more' }
    if (frame === 'bad') return { state: 'give-up' }
    if (frame.opcode >= 0x8) {
      at = frame.end
      continue
    }
    if (frame.opcode !== 0x1) return { state: 'give-up' }
    return parseWelcome(data.subarray(frame.start, frame.end).toString('utf8'))
  }
}

type Frame = { opcode: number; start: number; end: number }

function readFrame(data: Buffer, at: number): Frame | 'more' | 'bad' {
  if (data.length < at + 2) return 'more'
  const b0 = data[at] as number
  const b1 = data[at + 1] as number
  // RSV1 = permessage-deflate; FIN clear = fragmented; a mask is never set on server frames. None is a welcome we can read.
  if ((b0 & 0x70) !== 0 || (b0 & 0x80) === 0 || (b1 & 0x80) !== 0) return 'bad'
  let length = b1 & 0x7f
  let start = at + 2
  if (length === 126) {
    if (data.length < at + 4) return 'more'
    length = data.readUInt16BE(at + 2)
    start = at + 4
  } else if (length === 127) {
    if (data.length < at + 10) return 'more'
    const big = data.readBigUInt64BE(at + 2)
    if (big > BigInt(SNIFF_LIMIT_BYTES)) return 'bad'
    length = Number(big)
    start = at + 10
  }
  if (data.length < start + length) return 'more'
  return { opcode: b0 & 0x0f, start, end: start + length }
}

function parseWelcome(text: string): SniffResult {
  try {
    const frame = JSON.parse(text) as { t?: unknown; session?: { id?: unknown }; node?: unknown }
    if (frame.t !== 'welcome' || typeof frame.session?.id !== 'string') return { state: 'give-up' }
    return { state: 'found', sessionId: frame.session.id, node: typeof frame.node === 'string' ? frame.node : undefined }
  } catch {
    return { state: 'give-up' }
  }
}
