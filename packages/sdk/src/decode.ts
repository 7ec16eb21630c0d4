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

const str: Check = (v) => typeof v === 'string'
const strMax = (max: number, min = 0): Check => (v) => str(v) && (v as string).length >= min && (v as string).length <= max
const int = (min = -Infinity): Check => (v) => Number.isSafeInteger(v) && (v as number) >= min
const bool: Check = (v) => typeof v === 'boolean'
const any: Check = () => true
const obj = (shape: Shape): Check => (v) => isObject(v) && fieldError(v, shape) === undefined
const topic: Check = (v) => strMax(256, 1)(v) && /^(@inbox|[\w.:/-]+)$/.test(v as string)
const epoch = strMax(64, 1)

const shapes: Record<ServerFrame['t'], Shape> = {
  welcome: {
    session: [obj({ id: [str], token: [str] })],
    resumed: [bool],
    node: [str],
    acked: [int(0)],
    heartbeatMs: [int(1)],
    timeoutMs: [int(1)],
  },
  msg: { topic: [topic], offset: [int(1)], epoch: [epoch], data: [any], from: [str, 1] },
  ack: { seq: [int(0)] },
  subscribed: {
    topic: [topic],
    offset: [int(0)],
    epoch: [epoch],
    recovered: [bool],
    gap: [obj({ reason: [(v) => v === 'retention' || v === 'epoch'], from: [int(0)], to: [int(0)] }), 1],
    after: [int(0), 1],
  },
  unsubscribed: { topic: [topic] },
  error: { code: [str], message: [str], seq: [int(), 1], topic: [str, 1], id: [int(), 1] },
  result: { id: [int(1)], value: [any] },
  presence: { topic: [topic], user: [str], joined: [bool] },
  ping: {},
  pong: {},
}

/** Decode one text frame from the server. Never throws. */
export function decodeServerFrame(text: unknown): DecodeResult {
  if (typeof text !== 'string') return { ok: false, message: 'binary frame; the protocol is JSON text' }
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return { ok: false, message: `frame is not valid JSON: ${text.slice(0, 80)}` }
  }
  if (!isObject(v) || typeof v.t !== 'string') return { ok: false, message: 'frame must be a JSON object with a string "t"' }
  const shape = Object.hasOwn(shapes, v.t) ? shapes[v.t as ServerFrame['t']] : undefined
  if (!shape) return { ok: false, message: `unknown frame type ${JSON.stringify(v.t)}` }
  const bad = fieldError(v, shape)
  return bad === undefined ? { ok: true, frame: v as ServerFrame } : { ok: false, message: `${v.t}.${bad} is missing or invalid` }
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
