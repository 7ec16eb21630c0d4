/**
 * Text ↔ frame. Parsing is separate from I/O (as in ws's receiver): these functions never touch a socket, so
 * both ends test them with literal strings.
 */
import * as z from 'zod/mini'
import { ClientFrame, ServerFrame, type Frame } from './frames.js'
import { ErrorCode } from './codes.js'

export type DecodeError = {
  /** BAD_JSON, UNKNOWN_FRAME or BAD_FRAME. */
  code: typeof ErrorCode.BAD_JSON | typeof ErrorCode.UNKNOWN_FRAME | typeof ErrorCode.BAD_FRAME
  /** What was wrong, naming the field: `pub.seq: expected an integer >= 1, got 0`. */
  message: string
}
export type Decoded<F> = { ok: true; frame: F } | { ok: false; error: DecodeError }

/** Decode a frame a client sent (used by servers). Never throws. */
export function decodeClientFrame(text: string): Decoded<ClientFrame> {
  return decodeWith(ClientFrame, text)
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

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
