/** Admin request → action, as a pure function of method and URL (tested without a server). */
import { ClusterErrorCode } from '../errors.js'
import { quoteInput, tryDecode } from '../http/parse.js'

export type AdminAction =
  | { kind: 'list' }
  | { kind: 'add' }
  | { kind: 'remove'; id: string }
  | { kind: 'session'; session: string }
  | { kind: 'events'; after: number }
  | { kind: 'stats'; after: number }
  | { kind: 'kill'; id: string; signal: NodeJS.Signals }
  | { kind: 'drain' | 'freeze' | 'thaw' | 'restart'; id: string }
  /** The body (JSON ImpairOptions) is read by api.ts: this stays a function of method and URL. */
  | { kind: 'impair'; id: string }
  | { kind: 'heal'; id: string }
  | { kind: 'heal-all' }
  | { kind: 'impair-session' | 'heal-session'; session: string }

/** What a request that names no action gets; the codes and their statuses are in ../errors.ts. */
export type AdminRouteError = { error: { code: Extract<ClusterErrorCode, 'NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'BAD_OPTION' | 'BAD_REQUEST'>; message: string } }

const NODE_ACTIONS = ['kill', 'drain', 'freeze', 'thaw', 'restart', 'impair', 'heal'] as const
const ROUTES =
  'GET|POST nodes, POST nodes/:id/{kill,drain,freeze,thaw,restart,impair,heal}, DELETE nodes/:id, POST heal, GET sessions/:sid, POST sessions/:sid/{impair,heal}, GET events?after=<seq>, GET stats?after=<ms>'
/** kill's `?signal=`: the ones that make sense against a node. */
const SIGNALS = new Set(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGSTOP', 'SIGCONT'])

export function routeAdmin(method: string, url: URL): AdminAction | AdminRouteError {
  const parts: string[] = []
  for (const segment of url.pathname.replace(/^\/_lifeline\/api\/?/, '').split('/').filter(Boolean)) {
    const decoded = tryDecode(segment)
    if (decoded === undefined) {
      const message = `path segment ${quoteInput(segment)} is not valid percent-encoding (each % starts two hex digits of UTF-8); encode ids with encodeURIComponent`
      return { error: { code: ClusterErrorCode.BAD_REQUEST, message } }
    }
    parts.push(decoded)
  }
  const [resource, id, verb, ...rest] = parts
  const wrongMethod = (allowed: string): AdminRouteError => ({
    error: { code: ClusterErrorCode.METHOD_NOT_ALLOWED, message: `${method} ${url.pathname}: use ${allowed}` },
  })
  if (resource === 'sessions' && id && !verb) return method === 'GET' ? { kind: 'session', session: id } : wrongMethod('GET')
  if (resource === 'sessions' && id && (verb === 'impair' || verb === 'heal') && rest.length === 0) {
    return method === 'POST' ? { kind: verb === 'impair' ? 'impair-session' : 'heal-session', session: id } : wrongMethod('POST')
  }
  if (resource === 'heal' && !id) return method === 'POST' ? { kind: 'heal-all' } : wrongMethod('POST')
  if (resource === 'events' && !id) {
    if (method !== 'GET') return wrongMethod('GET')
    const after = url.searchParams.get('after') ?? '0'
    if (!/^\d{1,15}$/.test(after)) return { error: { code: ClusterErrorCode.BAD_OPTION, message: `after must be an event seq (an integer >= 0), got ${quoteInput(after)}` } }
    return { kind: 'events', after: Number(after) }
  }
  if (resource === 'stats' && !id) {
    if (method !== 'GET') return wrongMethod('GET')
    const after = url.searchParams.get('after') ?? '0'
    if (!/^\d{1,15}$/.test(after)) return { error: { code: ClusterErrorCode.BAD_OPTION, message: `after must be a sample time (ms since the epoch, an integer >= 0), got ${quoteInput(after)}` } }
    return { kind: 'stats', after: Number(after) }
  }
  if (resource !== 'nodes' || rest.length > 0) return notFound(url)
  if (!id) {
    if (method === 'GET') return { kind: 'list' }
    if (method === 'POST') return { kind: 'add' }
    return wrongMethod('GET or POST')
  }
  if (!verb) return method === 'DELETE' ? { kind: 'remove', id } : wrongMethod('DELETE')
  const action = NODE_ACTIONS.find((a) => a === verb)
  if (!action) return notFound(url)
  if (method !== 'POST') return wrongMethod('POST')
  if (action !== 'kill') return { kind: action, id }
  const signal = (url.searchParams.get('signal') ?? 'SIGKILL').toUpperCase()
  if (!SIGNALS.has(signal)) {
    return { error: { code: ClusterErrorCode.BAD_OPTION, message: `signal must be one of ${[...SIGNALS].join(', ')}, got "${signal}"` } }
  }
  return { kind: 'kill', id, signal: signal as NodeJS.Signals }
}

function notFound(url: URL): AdminRouteError {
  return { error: { code: ClusterErrorCode.NOT_FOUND, message: `no admin route ${url.pathname}; routes: ${ROUTES}` } }
}
