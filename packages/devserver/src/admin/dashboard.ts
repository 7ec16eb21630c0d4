/**
 * The dashboard: one static HTML page on the balancer port (`/` and `/_lifeline/`) that polls the admin API
 * and has a button per action. No build step and no dependencies: it is a view of the admin API, nothing more.
 */

export const DASHBOARD_PATHS = new Set(['/', '/_lifeline', '/_lifeline/'])

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lifeline dev cluster</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #222 }
  table { border-collapse: collapse } td, th { padding: .35rem .7rem; border-bottom: 1px solid #ddd; text-align: left }
  .up { color: #070 } .down, .dead { color: #b00 } .frozen { color: #06c } .draining, .starting { color: #a60 }
  button { margin-right: .25rem } #error { color: #b00 } code { background: #f4f4f4; padding: 0 .3rem }
</style></head>
<body>
<h1>lifeline dev cluster</h1>
<p>Clients connect to <code id="url"></code>. Admin API: <code>/_lifeline/api/nodes</code>.</p>
<table><thead><tr><th>node</th><th>status</th><th>pid</th><th>port</th><th>connections</th><th></th></tr></thead>
<tbody id="nodes"></tbody></table>
<p><button id="add">add a node</button> <span id="error"></span></p>
<script type="module">
  const api = '/_lifeline/api/nodes'
  document.getElementById('url').textContent = 'ws://' + location.host
  const error = document.getElementById('error')
  async function call(method, path) {
    const res = await fetch(api + path, { method })
    const body = await res.json()
    error.textContent = res.ok ? '' : body.error.code + ': ' + body.error.message
    refresh()
  }
  document.getElementById('add').onclick = () => call('POST', '')
  async function refresh() {
    try {
      const { nodes } = await (await fetch(api)).json()
      const rows = nodes.map((n) => {
        const tr = document.createElement('tr')
        for (const v of [n.id, n.status, n.pid ?? '', n.port ?? '', n.connections]) tr.insertCell().textContent = String(v)
        tr.cells[1].className = n.status
        const actions = tr.insertCell()
        for (const a of ['kill', 'drain', 'freeze', 'thaw', 'restart', 'remove']) {
          const b = document.createElement('button')
          b.textContent = a
          b.onclick = () => (a === 'remove' ? call('DELETE', '/' + n.id) : call('POST', '/' + n.id + '/' + a))
          actions.append(b)
        }
        return tr
      })
      document.getElementById('nodes').replaceChildren(...rows)
    } catch (e) {
      error.textContent = 'cluster unreachable: ' + e.message
    }
  }
  refresh()
  setInterval(refresh, 1000)
</script>
</body></html>
`
