// The admin API as the page uses it (routes: ../api.ts). Every call resolves, never throws: { ok, status, body },
// with body.error = { code, message } on a refusal and code UNREACHABLE when the cluster did not answer at all.
const BASE = '/_lifeline/api/'

export async function call(method, path, body) {
  try {
    const init = { method, headers: body === undefined ? {} : { 'content-type': 'application/json' } }
    if (body !== undefined) init.body = JSON.stringify(body)
    const res = await fetch(BASE + path, init)
    const text = await res.text()
    let parsed = {}
    try {
      parsed = text ? JSON.parse(text) : {}
    } catch {
      parsed = { error: { code: 'BAD_RESPONSE', message: `${res.status}: ${text.slice(0, 200)}` } }
    }
    if (!res.ok && !parsed.error) parsed.error = { code: String(res.status), message: text.slice(0, 200) }
    return { ok: res.ok, status: res.status, body: parsed }
  } catch (e) {
    return { ok: false, status: 0, body: { error: { code: 'UNREACHABLE', message: `the cluster did not answer (${e.message}); is it still running?` } } }
  }
}

export const get = (path) => call('GET', path)
