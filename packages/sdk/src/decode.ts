/**
 * Server frame decoding for the browser bundle. The shapes are the ones in @lifeline/protocol's frames.ts
 * (zod/mini); this is a hand-written check of the same rules, because bundling zod's core costs ~8 KB
 * min+gzip, two thirds of the SDK's 12 KB budget. test/decode.test.ts runs both decoders over the same corpus
 * of valid and broken frames and requires them to agree, so the two cannot drift apart unnoticed.
 * The return type is protocol's own inferred ServerFrame, so a shape change there fails typecheck here.
 */
import type { ServerFrame } from '@lifeline/protocol'

export type DecodeResult = { ok: true; frame: ServerFrame } | { ok: false; message: string }

type Check = (v: unknown) => boolean
type Shape = Record<string, [Check, optional?: 1]>

/** A seq, offset or id: a safe integer of at least `min`. Also checks the app's options and stored state. */
export const isOffset = (v: unknown, min: number): v is number => Number.isSafeInteger(v) && (v as number) >= min
/** An epoch as the protocol allows it: 1-64 characters. */
export const isEpoch = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 64
/** A topic name: `@inbox`, or 1-256 of [A-Za-z0-9_.:/-]. */
export const isTopic = (v: unknown): v is string => typeof v === 'string' && /^(@inbox|[\w.:/-]{1,256})$/.test(v)

const str: Check = (v) => typeof v === 'string'
const int = (min = -Infinity): Check => (v) => isOffset(v, min)
const bool: Check = (v) => typeof v === 'boolean'
const any: Check = () => true
const obj = (shape: Shape): Check => (v) => isObject(v) && fieldError(v, shape) === undefined

const shapes: Record<ServerFrame['t'], Shape> = {
  welcome: {
    session: [obj({ id: [str], token: [str] })],
    resumed: [bool],
    node: [str],
    acked: [int(0)],
    heartbeatMs: [int(1)],
    timeoutMs: [int(1)],
  },
  msg: { topic: [isTopic], offset: [int(1)], epoch: [isEpoch], data: [any], from: [str, 1] },
  ack: { seq: [int(0)] },
  subscribed: {
    topic: [isTopic],
    offset: [int(0)],
    epoch: [isEpoch],
    recovered: [bool],
    gap: [obj({ reason: [(v) => v === 'retention' || v === 'epoch'], from: [int(0)], to: [int(0)] }), 1],
    after: [int(0), 1],
  },
  unsubscribed: { topic: [isTopic] },
  error: { code: [str], message: [str], seq: [int(), 1], topic: [str, 1], id: [int(), 1] },
  result: { id: [int(1)], value: [any] },
  presence: { topic: [isTopic], user: [str], joined: [bool] },
  ping: {},
  pong: {},
}

/** Decode one text frame from the server. Never throws. */
export function decodeServerFrame(text: unknown): DecodeResult {
  if (typeof text !== 'string') return { ok: false, message: 'binary frame, not JSON text' }
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    // not JSON: reported below, like any other text that is not a frame
  }
  const t = isObject(v) ? v.t : undefined
  const shape = typeof t === 'string' && Object.hasOwn(shapes, t) ? shapes[t as ServerFrame['t']] : undefined
  if (!shape) return { ok: false, message: `not a JSON object with a known "t": ${text.slice(0, 80)}` }
  const bad = fieldError(v as Record<string, unknown>, shape)
  return bad === undefined ? { ok: true, frame: v as ServerFrame } : { ok: false, message: `${t}.${bad} is missing or invalid` }
}

function fieldError(v: Record<string, unknown>, shape: Shape): string | undefined {
  for (const key in shape) {
    const [check, optional] = shape[key]!
    // JSON has no undefined, so "present" is simply "has the key" (msg.data may be null but not absent).
    if (key in v ? !check(v[key]) : !optional) return key
  }
  return undefined
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
