/**
 * Text ↔ frame. Parsing is separate from I/O (as in ws's receiver): these functions never touch a socket, so
 * both ends test them with literal strings.
 */
import * as z from 'zod/mini'
import { ClientFrame, From, ServerFrame, type Frame } from './frames.js'
import { ErrorCode, MAX_DATA_DEPTH } from './codes.js'
import { jsonDepthExceeds } from './depth.js'

export type DecodeError = {
  /** BAD_JSON, UNKNOWN_FRAME, BAD_FRAME or DATA_TOO_DEEP. */
  code: typeof ErrorCode.BAD_JSON | typeof ErrorCode.UNKNOWN_FRAME | typeof ErrorCode.BAD_FRAME | typeof ErrorCode.DATA_TOO_DEEP
  /** What was wrong, naming the field: `pub.seq: expected an integer >= 1, got 0`. */
  message: string
  /**
   * DATA_TOO_DEEP only: the `seq` of the pub/send it came in, when that seq is valid, so the op can be refused for
   * good (its seq consumed) rather than closing the connection (the client would resend it forever).
   */
  seq?: number
}
export type Decoded<F> = { ok: true; frame: F } | { ok: false; error: DecodeError }

/**
 * Decode a frame a client sent (used by servers). Never throws. Message data nested deeper than MAX_DATA_DEPTH
 * is refused (DATA_TOO_DEEP) before anything can apply it: JSON.stringify of such a value overflows the stack
 * wherever it is encoded again (fan-out, IPC, Redis), poisoning its topic for every reader.
 */
export function decodeClientFrame(text: string): Decoded<ClientFrame> {
  // The frame object itself is one level; its data may have MAX_DATA_DEPTH more.
  if (jsonDepthExceeds(text, MAX_DATA_DEPTH + 1)) return tooDeep(text)
  const decoded = decodeWith(ClientFrame, text)
  if (!decoded.ok || decoded.frame.t !== 'hello') return decoded
  const subs = ownRecord(decoded.frame.subs, (JSON.parse(text) as { subs: unknown }).subs)
  if (!subs) return fail(ErrorCode.BAD_FRAME, "hello.subs.__proto__: expected a position {offset, epoch?}, 'earliest' or null")
  decoded.frame.subs = subs
  return decoded
}

/** Decode a frame a server sent (used by clients). Never throws. */
export function decodeServerFrame(text: string): Decoded<ServerFrame> {
  return decodeWith(ServerFrame, text)
}

/** Frame → text. The frame's type is checked at compile time; data must be JSON-serialisable. */
export function encode(frame: Frame): string {
  return JSON.stringify(frame)
}

function decodeWith<F>(schema: z.ZodMiniType<F>, text: string): Decoded<F> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return fail(ErrorCode.BAD_JSON, `frame is not valid JSON (${(e as Error).message})`)
  }
  if (!isObject(value) || typeof value.t !== 'string') {
    return fail(ErrorCode.UNKNOWN_FRAME, 'frame must be a JSON object with a string "t"')
  }
  const result = schema.safeParse(value)
  if (result.success) return { ok: true, frame: result.data }
  const issue = result.error.issues[0]
  const t = value.t
  if (!issue || (issue.code === 'invalid_union' && issue.path.length === 1 && issue.path[0] === 't')) {
    return fail(ErrorCode.UNKNOWN_FRAME, `unknown frame type ${JSON.stringify(t)}`)
  }
  return fail(ErrorCode.BAD_FRAME, `${t}.${issue.path.join('.') || '(root)'}: ${describe(issue)}`)
}

function describe(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'nonoptional' ? 'is required' : `expected ${issue.expected}`
    case 'too_small':
      return `must be >= ${String(issue.minimum)}${issue.origin === 'string' ? ' characters long' : ''}`
    case 'too_big':
      return `must be <= ${String(issue.maximum)}${issue.origin === 'string' ? ' characters long' : ''}`
    case 'invalid_format':
      return `has an invalid format (${issue.format})`
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`
    default:
      return issue.code.replace(/_/g, ' ')
  }
}

function fail(code: DecodeError['code'], message: string): { ok: false; error: DecodeError } {
  return { ok: false, error: { code, message } }
}

function tooDeep(text: string): Decoded<never> {
  const error: DecodeError = { code: ErrorCode.DATA_TOO_DEEP, message: `data nests deeper than ${MAX_DATA_DEPTH} levels` }
  try {
    // JSON.parse itself copes with deep input (V8's parser is iterative); only the seq is wanted from it.
    const value = JSON.parse(text) as { t?: unknown; seq?: unknown }
    if ((value.t === 'pub' || value.t === 'send') && Number.isSafeInteger(value.seq) && (value.seq as number) >= 1) error.seq = value.seq as number
  } catch {
    // Not JSON at all: no seq to report.
  }
  return { ok: false, error }
}

/**
 * Topic names come from users, and `__proto__` is a valid one, but zod copies records into plain objects, where
 * that key sets the prototype instead (the topic vanished from `hello.subs`), and it does not check its value.
 * So the record is copied into an object without a prototype, and a `__proto__` entry of the parsed input is
 * checked here and added; undefined when it is invalid.
 */
function ownRecord<V>(validated: Record<string, V>, raw: unknown): Record<string, V> | undefined {
  const out = Object.create(null) as Record<string, V>
  for (const key of Object.keys(validated)) out[key] = validated[key] as V
  if (raw !== null && typeof raw === 'object' && Object.hasOwn(raw, '__proto__')) {
    const parsed = SubPosition.safeParse((raw as Record<string, unknown>)['__proto__'])
    if (!parsed.success) return undefined
    out['__proto__'] = parsed.data as V
  }
  return out
}

const SubPosition = z.nullable(From)

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
