// The cluster-wide panels: totals, the store, the message and resume charts, the last fault's reconnect times.
import { BucketChart, TimeChart } from './charts.js'
import { bytes, clock, count, duration } from './format.js'

const $ = (id) => document.getElementById(id)

/** "≤100 ms" … "≤60 s", from the API's bucket bounds. */
const bucketLabel = (ms) => (ms < 1_000 ? `${ms}` : `${ms / 1_000}s`)

const STORE_WORDS = {
  ok: 'ok',
  slow: 'slow: a call has waited a second or more',
  failing: 'failing: calls are refused',
  unknown: 'no word from any node',
}

export class Panels {
  constructor() {
    this.messages = new TimeChart($('chart-messages'), {
      series: [
        { label: 'in', stroke: '#1d9a6c', fill: 'rgba(29,154,108,.10)' },
        { label: 'out', stroke: '#7b4fd6', fill: 'rgba(123,79,214,.08)' },
      ],
    })
    this.resumes = new TimeChart($('chart-resumes'), { series: [{ label: 'resumes', stroke: '#d9822b', fill: 'rgba(217,130,43,.15)' }] })
    this.reconnects = undefined
    /** Ids of nodes whose store link is cut (impair { store: { blackhole } }), from the node list. */
    this.cut = []
  }

  /** GET /_lifeline/api/nodes's list: a node cut from the store says so before its calls time out. */
  nodes(nodes) {
    this.cut = nodes.filter((n) => n.status !== 'dead' && n.impairment?.store?.blackhole).map((n) => n.id)
  }

  /** `history`: history.js; `snapshot`: the last stats answer (its store and lastFault are current). */
  stats(history, snapshot) {
    const messagesIn = history.total('messagesIn')
    const messagesOut = history.total('messagesOut')
    const resumes = history.total('resumes')
    this.messages.setData(history.at, [messagesIn, messagesOut])
    this.resumes.setData(history.at, [resumes])
    const last = (column) => (column.length ? column[column.length - 1] : null)
    const peak = (column) => column.reduce((max, v) => (v !== null && v > max ? v : max), 0)
    const span = `over the last ${history.seconds} s`
    $('chart-messages').setAttribute('aria-label', `messages per second ${span}: in ${count(last(messagesIn))} now (at most ${count(peak(messagesIn))}), out ${count(last(messagesOut))} now (at most ${count(peak(messagesOut))})`)
    $('chart-resumes').setAttribute('aria-label', `resumes per second ${span}: ${count(last(resumes))} now, at most ${count(peak(resumes))}`)
    $('total-connections').textContent = count(last(history.total('connections')))
    $('total-in').textContent = count(last(messagesIn))
    $('total-out').textContent = count(last(messagesOut))
    $('total-resumes').textContent = count(last(resumes))
    this.store(snapshot.store)
    this.fault(snapshot.lastFault)
  }

  store(store) {
    const out = $('store-state')
    out.dataset.state = store.state
    const lagging = Object.entries(store.nodes).filter(([, s]) => s.state !== 'ok' && s.state !== 'unknown')
    const detail = lagging.map(([id, s]) => `${id}: ${s.state === 'failing' ? `${count(s.failuresPerSec)} failures/s` : `${s.waiting} waiting, oldest ${duration(s.oldestWaitingMs)}`}`)
    const cut = this.cut.filter((id) => !lagging.some(([other]) => other === id)).map((id) => `${id}: link cut`)
    out.textContent = [store.state, ...detail, ...cut].join(' · ')
    out.title = [STORE_WORDS[store.state] ?? '', ...cut.map((c) => `${c} (impaired: its calls wait, then fail with STORE_UNAVAILABLE)`)].filter(Boolean).join('; ')
    $('store-where').textContent = `${store.kind}, ${store.where}${store.retainedBytes === undefined ? '' : ` · ${bytes(store.retainedBytes)} retained`}`
  }

  fault(fault) {
    if (!fault) return
    this.reconnects ??= new BucketChart($('chart-reconnects'), {
      labels: fault.histogram.boundsMs.map(bucketLabel),
      stroke: '#c2452d',
      fill: 'rgba(194,69,45,.55)',
    })
    this.reconnects.setData(fault.histogram.counts)
    const buckets = fault.histogram.counts.map((n, i) => (n ? `${n} within ${duration(fault.histogram.boundsMs[i])}` : '')).filter(Boolean)
    $('chart-reconnects').setAttribute('aria-label', `reconnect times after the last fault: ${buckets.join(', ') || 'none yet'}`)
    const what = `${fault.node ? `${fault.node}: ` : ''}${fault.text} at ${clock(fault.at)}`
    const back = `${count(fault.resumed)} resumed of ${count(fault.affected)} connections`
    const times = fault.resumed ? ` · p50 ${duration(fault.p50Ms)} · p99 ${duration(fault.p99Ms)} · max ${duration(fault.maxMs)}` : ''
    $('fault-summary').textContent = `${what} · ${back}${times}`
  }
}
