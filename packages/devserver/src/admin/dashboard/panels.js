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
  }

  /** `history`: history.js; `snapshot`: the last stats answer (its store and lastFault are current). */
  stats(history, snapshot) {
    const messagesIn = history.total('messagesIn')
    const messagesOut = history.total('messagesOut')
    const resumes = history.total('resumes')
    this.messages.setData(history.at, [messagesIn, messagesOut])
    this.resumes.setData(history.at, [resumes])
    const last = (column) => (column.length ? column[column.length - 1] : null)
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
    out.textContent = [store.state, ...detail].join(' · ')
    out.title = STORE_WORDS[store.state] ?? ''
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
    const what = `${fault.node ? `${fault.node}: ` : ''}${fault.text} at ${clock(fault.at)}`
    const back = `${count(fault.resumed)} resumed of ${count(fault.affected)} connections`
    const times = fault.resumed ? ` · p50 ${duration(fault.p50Ms)} · p99 ${duration(fault.p99Ms)} · max ${duration(fault.maxMs)}` : ''
    $('fault-summary').textContent = `${what} · ${back}${times} (ms from the fault to each resume)`
  }
}
