// One card per node, made once when the node first appears and then only updated in place: text, classes and
// `disabled` change, the elements (and so the buttons under the mouse) never do. That is what keeps every
// press: the old page replaced its table every second, and a press landing on a replaced row was lost.
import { call } from './api.js'
import { describeImpairment, impairmentOf } from './actions.js'
import { TimeChart } from './charts.js'
import { count } from './format.js'

/** What the status word means, for its tooltip. */
const STATUS = {
  starting: 'spawned, not yet listening',
  up: 'listening and passing health checks: the balancer routes to it',
  down: 'alive but failing health checks: not routed to',
  draining: 'leaving: clients were told to move (1012), it exits when they have',
  frozen: 'stopped by SIGSTOP: its sockets are open, nothing answers',
  dead: 'the process has exited',
}

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props)
  node.append(...children)
  return node
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
  }

  /** GET /_lifeline/api/nodes's list. */
  update(nodes) {
    const seen = new Set()
    for (const node of nodes) {
      seen.add(node.id)
      const card = this.cards.get(node.id) ?? this.create(node.id)
      card.node = node
      this.render(card)
    }
    for (const [id, card] of this.cards) {
      if (seen.has(id)) continue
      card.root.remove()
      this.cards.delete(id)
    }
  }

  /** New samples are in `history` (history.js): redraw each card's chart and rates. */
  stats(history) {
    for (const [id, card] of this.cards) {
      card.chart.setData(history.at, [history.column(id, 'connections')])
      card.rates.in.textContent = count(history.latest(id, 'messagesIn'))
      card.rates.out.textContent = count(history.latest(id, 'messagesOut'))
      card.rates.resumes.textContent = count(history.latest(id, 'resumes'))
    }
  }

  create(id) {
    const root = el('article', { className: 'node' })
    root.dataset.node = id
    const status = el('span', { className: 'status' })
    const meta = el('span', { className: 'meta' })
    const connections = el('output', { className: 'connections' })
    const rates = { in: el('output'), out: el('output'), resumes: el('output') }
    const impairment = el('p', { className: 'impairment', hidden: true })
    const chartBox = el('div', { className: 'chart small' })
    const groups = { process: el('div', { className: 'group' }), network: el('div', { className: 'group network' }) }
    groups.process.setAttribute('role', 'group')
    groups.process.setAttribute('aria-label', `process faults ${id}`)
    groups.network.setAttribute('role', 'group')
    groups.network.setAttribute('aria-label', `network faults ${id}`)
    const buttons = new Map()
    for (const action of this.actions) {
      const button = el('button', { type: 'button', textContent: action.name, title: action.does, className: `action ${action.group}` })
      button.dataset.action = action.name
      button.setAttribute('aria-label', `${action.name} ${id}`)
      button.addEventListener('click', () => this.press(id, action))
      groups[action.group].append(button)
      buttons.set(action.name, button)
    }
    root.append(
      el('header', {}, el('h3', { textContent: id }), status, meta),
      el('div', { className: 'numbers' },
        el('div', { className: 'big' }, connections, el('span', { className: 'label', textContent: 'connections' })),
        el('div', {}, el('span', { className: 'label', textContent: 'in /s ' }), rates.in),
        el('div', {}, el('span', { className: 'label', textContent: 'out /s ' }), rates.out),
        el('div', {}, el('span', { className: 'label', textContent: 'resumes /s ' }), rates.resumes)),
      chartBox,
      impairment,
      groups.process,
      groups.network,
    )
    // Cards stay in id order (n2 before n10) whenever they were added.
    const after = [...this.cards.keys()].find((other) => other.localeCompare(id, 'en', { numeric: true }) > 0)
    this.container.insertBefore(root, after ? this.cards.get(after).root : null)
    const chart = new TimeChart(chartBox, { series: [{ label: 'connections', stroke: '#2f6fde', fill: 'rgba(47,111,222,.12)' }], height: 90 })
    const card = { id, root, status, meta, connections, rates, impairment, buttons, chart, node: undefined }
    this.cards.set(id, card)
    return card
  }

  render(card) {
    const n = card.node
    card.root.dataset.status = n.status
    card.status.textContent = n.status
    card.status.title = STATUS[n.status] ?? ''
    // A dead node's pid is its last process's: shown as such, not as if it still ran.
    card.meta.textContent = n.status === 'dead' ? `exited${n.pid ? ` (was pid ${n.pid})` : ''}` : [n.pid && `pid ${n.pid}`, n.port && `port ${n.port}`].filter(Boolean).join(' · ')
    card.connections.textContent = count(n.connections)
    const impairment = impairmentOf(n)
    card.impairment.hidden = !impairment
    card.impairment.textContent = impairment ? `network: ${describeImpairment(impairment)}` : ''
    for (const action of this.actions) {
      const button = card.buttons.get(action.name)
      const busy = this.busy.has(`${card.id} ${action.name}`)
      const disabled = busy || !action.applies(n)
      if (button.disabled !== disabled) button.disabled = disabled
      button.toggleAttribute('aria-busy', busy)
    }
  }

  async press(id, action) {
    const card = this.cards.get(id)
    const key = `${id} ${action.name}`
    if (!card || this.busy.has(key) || !action.applies(card.node)) return
    this.busy.add(key)
    this.render(card)
    const { method, path, body } = action.request(card.node)
    const result = await call(method, path, body)
    this.busy.delete(key)
    // The answer's node record is newer than the last poll's: without it, kill would look enabled again on a
    // node that just died, until the next poll.
    if (result.ok && result.body.node?.id === id) card.node = result.body.node
    if (this.cards.get(id) === card) this.render(card)
    this.pressed({ ...result, action: key })
  }
}
