// One card per node, made once when the node first appears and then only updated in place: text, attributes
// and `disabled` change, the elements (and so the buttons under the mouse) never do, and neither does their
// place: every line of text that changes has a fixed height and is cut with an ellipsis (the whole of it in its
// tooltip), so no button moves under a pointer about to press it. That is what keeps every press: the old page
// replaced its table every second, and a press landing on a replaced row was lost.
import { call } from './api.js'
import { describeImpairment, impairmentOf } from './actions.js'
import { TimeChart } from './charts.js'
import { clock, count } from './format.js'

/** What the status word means, for its tooltip. */
const STATUS = {
  starting: 'spawned, not yet listening',
  up: 'listening and passing health checks: the balancer routes to it',
  down: 'alive but failing health checks: not routed to',
  draining: 'leaving: clients were told to move (1012), it exits when they have',
  frozen: 'stopped by SIGSTOP: its sockets are open, nothing answers',
  dead: 'the process has exited',
  removed: 'removed from the cluster; the card goes once the pointer leaves the cards',
}

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props)
  node.append(...children)
  return node
}

function figure(label, output) {
  return el('div', { className: 'rate' }, el('span', { className: 'label', textContent: label }), output)
}

export class NodeCards {
  /**
   * `actions`: nodeActions() (actions.js). `pressed(result)`: after every request a button made (to show a
   * refusal and refresh at once).
   */
  constructor(container, { actions, pressed }) {
    this.container = container
    this.actions = actions
    this.pressed = pressed
    this.cards = new Map()
    this.busy = new Set()
    /** Node id → how its last process ended ("exited (SIGKILL) at 14:03:07"), from the event log. */
    this.exits = new Map()
    /** What actions.js's `applies` reads besides the node. */
    this.ctx = { storeKind: undefined }
  }

  /**
   * GET /_lifeline/api/nodes's list, asked for at `asked` (performance.now()). A card a button's answer updated
   * after that keeps the answer's record: a poll that crossed a kill on the wire would show the node alive again.
   */
  update(nodes, asked) {
    const seen = new Set()
    for (const node of nodes) {
      seen.add(node.id)
      const card = this.cards.get(node.id) ?? this.create(node.id)
      if (card.answeredAt > asked) continue
      card.node = node
      this.render(card)
    }
    // A removed node's card stays, marked removed with every button disabled, while the pointer is over the
    // cards: taking it out moves the cards after it, and the next card's button would slide under a second click.
    const hovered = this.container.matches(':hover')
    for (const [id, card] of this.cards) {
      if (seen.has(id)) continue
      if (!hovered) {
        card.root.remove()
        this.cards.delete(id)
      } else if (card.node.status !== 'removed') {
        card.node = { ...card.node, status: 'removed', pid: undefined, port: undefined, connections: 0, impairment: undefined }
        this.render(card)
      }
    }
  }

  /** New events (events.js), oldest first: a node's exit is said on its card while it is dead. */
  events(events) {
    for (const e of events) {
      if (e.kind !== 'node' || e.node === undefined || e.detail?.to !== 'exited') continue
      const exit = e.detail.exit
      const how = exit?.signal ?? (exit && exit.code !== null && exit.code !== undefined ? `code ${exit.code}` : '')
      this.exits.set(e.node, `exited${how ? ` (${how})` : ''} at ${clock(e.at).slice(0, 8)}`)
    }
  }

  /** The last stats answer's cluster-wide facts the buttons depend on (the store's kind). */
  context(snapshot) {
    if (this.ctx.storeKind === snapshot.store?.kind) return
    this.ctx = { storeKind: snapshot.store?.kind }
    for (const card of this.cards.values()) if (card.node) this.render(card)
  }

  /** New samples are in `history` (history.js): redraw each card's chart and rates. */
  stats(history) {
    for (const [id, card] of this.cards) {
      const connections = history.column(id, 'connections')
      card.chart.setData(history.at, [connections])
      const peak = connections.reduce((max, v) => (v !== null && v > max ? v : max), 0)
      card.chartBox.setAttribute('aria-label', `connections of ${id} over the last ${history.seconds} s: now ${count(history.latest(id, 'connections'))}, at most ${count(peak)}`)
      card.rates.in.textContent = count(history.latest(id, 'messagesIn'))
      card.rates.out.textContent = count(history.latest(id, 'messagesOut'))
      card.rates.resumes.textContent = count(history.latest(id, 'resumes'))
    }
  }

  create(id) {
    const root = el('article', { className: 'card' })
    root.dataset.node = id
    root.setAttribute('aria-label', `node ${id}`)
    const status = el('span', { className: 'status' })
    const meta = el('span', { className: 'meta' })
    const connections = el('output', { className: 'connections' })
    const rates = { in: el('output'), out: el('output'), resumes: el('output') }
    const impairment = el('p', { className: 'impairment' })
    const chartBox = el('div', { className: 'chart small' })
    chartBox.setAttribute('role', 'img')
    const groups = { process: el('div', { className: 'group process' }), network: el('div', { className: 'group network' }) }
    groups.process.setAttribute('role', 'group')
    groups.process.setAttribute('aria-label', `process faults ${id}`)
    groups.network.setAttribute('role', 'group')
    groups.network.setAttribute('aria-label', `network faults ${id}`)
    const buttons = new Map()
    for (const action of this.actions) {
      const button = el('button', { type: 'button', textContent: action.name, title: action.does, className: 'action' })
      button.dataset.action = action.name
      button.setAttribute('aria-label', `${action.name} ${id}`)
      button.addEventListener('click', () => this.press(id, action))
      groups[action.group].append(button)
      buttons.set(action.name, button)
    }
    root.append(
      el('header', {}, el('h3', { textContent: id }), status, meta),
      el('div', { className: 'numbers' },
        el('div', { className: 'big' }, el('span', { className: 'label', textContent: 'connections' }), connections),
        figure('in /s', rates.in),
        figure('out /s', rates.out),
        figure('resumes /s', rates.resumes)),
      chartBox,
      impairment,
      groups.process,
      groups.network,
    )
    // Cards stay in id order (n2 before n10) whenever they were added.
    const after = [...this.cards.keys()].find((other) => other.localeCompare(id, 'en', { numeric: true }) > 0)
    this.container.insertBefore(root, after ? this.cards.get(after).root : null)
    const chart = new TimeChart(chartBox, { series: [{ label: 'connections', stroke: '#2f6fde', fill: 'rgba(47,111,222,.12)' }], height: 110 })
    const card = { id, root, status, meta, connections, rates, impairment, chartBox, buttons, chart, node: undefined, answeredAt: -1 }
    this.cards.set(id, card)
    return card
  }

  render(card) {
    const n = card.node
    card.root.dataset.status = n.status
    card.status.textContent = n.status
    card.status.title = STATUS[n.status] ?? ''
    // A dead node has no process: its last pid would only mislead (the API still lists it, as the last one's).
    const meta =
      n.status === 'removed' ? 'no longer in the cluster' : n.status === 'dead' ? this.exits.get(n.id) ?? 'not running' : [n.pid && `pid ${n.pid}`, n.port && `port ${n.port}`].filter(Boolean).join(' · ')
    if (card.meta.textContent !== meta) card.meta.textContent = card.meta.title = meta
    card.connections.textContent = count(n.connections)
    const impairment = impairmentOf(n)
    const line = impairment ? `network: ${describeImpairment(impairment)}` : 'network: not impaired'
    if (card.impairment.textContent !== line) card.impairment.textContent = card.impairment.title = line
    card.impairment.dataset.impaired = String(impairment !== null)
    for (const action of this.actions) {
      const button = card.buttons.get(action.name)
      const busy = this.busy.has(`${action.name} ${card.id}`)
      const disabled = busy || n.status === 'removed' || !action.applies(n, this.ctx)
      if (button.disabled !== disabled) button.disabled = disabled
      button.toggleAttribute('aria-busy', busy)
    }
  }

  async press(id, action) {
    const card = this.cards.get(id)
    const key = `${action.name} ${id}`
    if (!card || this.busy.has(key) || card.node.status === 'removed' || !action.applies(card.node, this.ctx)) return
    this.busy.add(key)
    this.render(card)
    const { method, path, body } = action.request(card.node)
    const result = await call(method, path, body)
    this.busy.delete(key)
    // The answer's node record is newer than the last poll's: without it, kill would look enabled again on a
    // node that just died, until the next poll.
    if (result.ok && result.body.node?.id === id) {
      card.node = result.body.node
      card.answeredAt = performance.now()
    }
    if (this.cards.get(id) === card) this.render(card)
    this.pressed({ ...result, action: key })
  }
}
