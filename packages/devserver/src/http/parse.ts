/**
 * Reading what a client put in a request (its target, Host, Origin, percent-escapes) without throwing.
 *
 * Why: `new URL` and `decodeURIComponent` throw on bytes anyone can send (`GET //[`, `GET http://[`, `%E0%A4%A`),
 * and a throw in a request handler ends the process: the supervisor, and every node with it. So input is parsed
 * here and nowhere else, and each function answers undefined for what it cannot read; the caller answers 400 and
 * says what was wrong. Pure: strings in, values out.
 */

/** The one place `new URL` meets input. */
export function tryUrl(input: string): URL | undefined {
  try {
    return new URL(input)
  } catch {
    return undefined
  }
}

/** `decodeURIComponent`, undefined for a broken escape (`%`, `%ZZ`, `%E0%A4%A`: not UTF-8). */
export function tryDecode(component: string): string | undefined {
  try {
    return decodeURIComponent(component)
  } catch {
    return undefined
  }
}

/** Origin-form targets are resolved under this origin; it never shows in an answer. */
const PATH_ORIGIN = 'http://path.invalid'

export interface RequestTarget {
  url: URL
  /**
   * `host[:port]` when the target is absolute-form (`GET http://host/path`): RFC 9112 §3.2.2 makes that the
   * request's host, whatever Host says. Undefined for origin-form (`GET /path`), the form browsers send.
   */
  authority: string | undefined
}

/**
 * A request target (`req.url`). Origin-form is appended to a fixed origin rather than resolved as a reference,
 * so `//x/_lifeline/api/nodes` stays a path (which we do not serve) instead of becoming host `x`. Undefined for
 * a target that is neither form we serve (`*`, `host:port`, `%`) or an absolute URL that does not parse (`http://[`).
 */
export function parseTarget(target: string | undefined): RequestTarget | undefined {
  if (target === undefined) return undefined
  if (target.startsWith('/')) {
    const url = tryUrl(PATH_ORIGIN + target)
    return url && { url, authority: undefined }
  }
  if (!/^(https?|wss?):\/\//i.test(target)) return undefined
  const url = tryUrl(target)
  return url && { url, authority: url.host }
}

export interface HostName {
  /** Lowercase, IPv4 in dotted decimal, IPv6 compressed and in brackets (`[::1]`), as WHATWG URL normalises it. */
  hostname: string
  /** `hostname[:port]`, a default port (80) left out, as `URL.host` and so comparable with an Origin's host. */
  host: string
}

/**
 * A Host header value: a host and an optional port, nothing else. Checked by shape before parsing, because
 * `new URL('http://' + value)` would read `localhost@attacker.example` as host attacker.example and
 * `attacker.example/x` as a path: Host must name the host alone.
 */
export function parseHost(value: string | undefined): HostName | undefined {
  if (!value || !/^(\[[0-9a-fA-F:.]+\]|[^\s@/\\?#[\]:%]+)(:\d{0,5})?$/.test(value)) return undefined
  const url = tryUrl(`http://${value}`)
  return url && { hostname: url.hostname, host: url.host }
}

/** An Origin header's `host[:port]`; undefined for `null` (an opaque origin: sandboxed frames, file://) or garbage. */
export function originHost(value: string): string | undefined {
  const url = tryUrl(value)
  return url && url.origin !== 'null' ? url.host : undefined
}

/** Client input as it may be quoted in a message or a log line: in quotes, at most 200 characters, control bytes escaped. */
export function quoteInput(input: string | undefined): string {
  const text = input ?? ''
  const clipped = text.length > 200 ? `${text.slice(0, 200)}…` : text
  return JSON.stringify(clipped)
}
