// The dashboard: polls the admin API once a second and updates the page in place (nodes.js says why that
// matters for the buttons). Three reads a tick, each incremental where it can be: the node list (small), the
// events after the last seq seen, the stats samples after the last time seen.
import { call, get } from './api.js'
import { nodeActions } from './actions.js'
import { EventTable } from './events.js'
import { History } from './history.js'
import { NodeCards } from './nodes.js'
import { Panels } from './panels.js'
import { clock } from './format.js'

/** The stats' own resolution (one sample a second, cluster/stats.ts): polling faster would show nothing new. */
const POLL_MS = 1_000

const $ = (id) => document.getElementById(id)
const errorLine = $('error')
const numberOf = (id, scale = 1) => {
  const v = $(id).value.trim()
  return v === '' ? undefined : Math.max(0, Number(v)) * scale
}
const impairSettings = () => {
  const settings = { latencyMs: numberOf('impair-latency'), jitterMs: numberOf('impair-jitter'), bandwidthBytesPerSec: numberOf('impair-bandwidth', 1_024) }
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined && !Number.isNaN(v)))
}

const actions = nodeActions(impairSettings)
const history = new History()
const events = new EventTable($('events'))
const panels = new Panels()
const cards = new NodeCards($('nodes'), { actions, pressed: done })

$('url').textContent = `ws://${location.host}`
$('legend').append(
  ...actions.flatMap((a) => {
    const dt = document.createElement('dt')
    dt.textContent = a.name
    const dd = document.createElement('dd')
    dd.textContent = a.does
    return [dt, dd]
  }),
)
$('add').addEventListener('click', async () => done(await call('POST', 'nodes')))
$('heal-all').addEventListener('click', async () => done(await call('POST', 'heal')))

/** After any request a button made: say what was refused, and show its effect now rather than at the next tick. */
function done(result) {
  errorLine.textContent = result.ok ? '' : `${result.action ? `${result.action}: ` : ''}${result.body.error.code}: ${result.body.error.message}`
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
    const [nodes, news, stats] = await Promise.all([get('nodes'), get(`events?after=${events.seq}`), get(`stats?after=${history.last}`)])
    if (nodes.ok) cards.update(nodes.body.nodes)
    if (news.ok) events.add(news.body.events)
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
