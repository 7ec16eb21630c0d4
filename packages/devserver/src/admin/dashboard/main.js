// The dashboard: polls the admin API once a second and updates the page in place (nodes.js says why that
// matters for the buttons). Three reads a tick, each incremental where it can be: the node list (small), the
// events after the last seq seen, the stats samples after the last time seen.
import { call, get } from './api.js'
import { CLUSTER_ACTIONS, nodeActions } from './actions.js'
import { EventTable } from './events.js'
import { History } from './history.js'
import { NodeCards } from './nodes.js'
import { Panels } from './panels.js'
import { clock } from './format.js'

/** The stats' own resolution (one sample a second, cluster/stats.ts): polling faster would show nothing new. */
const POLL_MS = 1_000

const $ = (id) => document.getElementById(id)
const errorLine = $('error')
/** An impair input's value (× `scale`), or undefined when empty or 0 (0 KB/s would pass nothing: a blackhole says so). */
const numberOf = (id, scale = 1) => {
  const v = Number($(id).value.trim() || 0)
  return Number.isFinite(v) && v > 0 ? Math.round(v * scale) : undefined
}
const impairSettings = () => {
  const settings = { latencyMs: numberOf('impair-latency'), jitterMs: numberOf('impair-jitter'), bandwidthBytesPerSec: numberOf('impair-bandwidth', 1_024) }
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined))
}

const actions = nodeActions(impairSettings)
const history = new History()
const events = new EventTable($('events'))
const panels = new Panels()
const cards = new NodeCards($('nodes'), { actions, pressed: done })

$('url').textContent = `ws://${location.host}`
$('legend').append(
  ...[...CLUSTER_ACTIONS, ...actions].flatMap((a) => {
    const dt = document.createElement('dt')
    dt.textContent = a.name
    const dd = document.createElement('dd')
    dd.textContent = a.does
    return [dt, dd]
  }),
)
$('cluster-actions').append(...CLUSTER_ACTIONS.map(clusterButton))

/** A button of the whole cluster: busy (and so disabled) while its request runs, then done(). */
function clusterButton(action) {
  const button = Object.assign(document.createElement('button'), { type: 'button', textContent: action.name, title: action.does })
  button.addEventListener('click', async () => {
    if (button.disabled) return
    button.disabled = true
    button.setAttribute('aria-busy', '')
    const { method, path, body } = action.request()
    const result = await call(method, path, body)
    button.disabled = false
    button.removeAttribute('aria-busy')
    done({ ...result, action: action.name })
  })
  return button
}

/** After any request a button made: say what was refused, and show its effect now rather than at the next tick. */
function done(result) {
  const line = result.ok ? '' : `${result.action ? `${result.action}: ` : ''}${result.body.error.code}: ${result.body.error.message}`
  errorLine.textContent = errorLine.title = line
  refresh()
}

let running = false
let again = false
let timer
/** One tick; a refresh asked for while one runs happens right after it, so none is lost and none overlap. */
async function refresh() {
  if (running) return void (again = true)
  running = true
  clearTimeout(timer)
  try {
    const asked = performance.now()
    const [nodes, news, stats] = await Promise.all([get('nodes'), get(`events?after=${events.seq}`), get(`stats?after=${history.last}`)])
    if (news.ok) {
      cards.events(news.body.events)
      events.add(news.body.events)
    }
    if (stats.ok) cards.context(stats.body)
    if (nodes.ok) {
      cards.update(nodes.body.nodes, asked)
      panels.nodes(nodes.body.nodes)
    }
    if (stats.ok) {
      history.add(stats.body)
      cards.stats(history)
      panels.stats(history, stats.body)
    }
    live(nodes.ok && news.ok && stats.ok, nodes.ok ? '' : nodes.body.error.message)
  } finally {
    running = false
    if (again) {
      again = false
      void refresh()
    } else timer = setTimeout(refresh, document.hidden ? POLL_MS * 5 : POLL_MS)
  }
}

function live(ok, why) {
  $('live').dataset.state = ok ? 'live' : 'down'
  $('live-text').textContent = ok ? `live · ${clock(Date.now()).slice(0, 8)}` : `cluster unreachable${why ? `: ${why}` : ''}`
}

// A hidden tab polls every 5 s instead (the `after` cursors catch up on return); back in view, at once.
document.addEventListener('visibilitychange', () => document.hidden || refresh())
void refresh()
