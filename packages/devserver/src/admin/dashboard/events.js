// The event log (GET /_lifeline/api/events?after=<seq>), newest first. Rows are only ever added (and the oldest
// dropped past MAX_ROWS): what is on screen does not move except down.
import { clock } from './format.js'

/** Rows kept on the page: an hour of a chaos run; the API keeps 2,000 (cluster/events.ts). */
const MAX_ROWS = 500

export class EventTable {
  constructor(tbody) {
    this.tbody = tbody
    this.seq = 0
  }

  /** Events after `seq`, oldest first, as the API returns them. */
  add(events) {
    if (!events.length) return
    const rows = document.createDocumentFragment()
    // The log keeps the newest events only; a gap in seq means some went by unseen (the page was away).
    if (this.seq > 0 && events[0].seq > this.seq + 1) rows.prepend(this.row({ at: events[0].at, kind: 'gap', text: `${events[0].seq - this.seq - 1} events went by unseen` }))
    for (const e of events) rows.prepend(this.row(e))
    this.seq = events[events.length - 1].seq
    this.tbody.prepend(rows)
    while (this.tbody.rows.length > MAX_ROWS) this.tbody.lastElementChild.remove()
  }

  row(e) {
    const tr = document.createElement('tr')
    tr.dataset.kind = e.kind
    if (e.node !== undefined) tr.dataset.node = e.node
    if (e.seq !== undefined) tr.dataset.seq = String(e.seq)
    for (const text of [clock(e.at), e.node ?? '', e.kind, e.text]) tr.insertCell().textContent = text
    return tr
  }
}
