/**
 * The dashboard's files: a static page on the balancer port (`/`, `/_lifeline/`) and its scripts and styles
 * under /_lifeline/dashboard/, all served from this package (uPlot from its own package): no CDN, so the page
 * works offline. The page is a view of the admin API (api.ts) and nothing more; how it reads is in main.js.
 *
 * The browser files sit beside this one in src/admin/dashboard/ (plain ES modules: no build step) and are read
 * from there by the built dist/ code too (the package ships src/), once each, on first request.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

export interface DashboardAsset {
  contentType: string
  body: Buffer
  /** A strong validator of `body`, for If-None-Match. */
  etag: string
}

/** The page's own address; the other files are under ASSET_PREFIX. */
export const DASHBOARD_PATHS: ReadonlySet<string> = new Set(['/', '/_lifeline', '/_lifeline/'])
export const ASSET_PREFIX = '/_lifeline/dashboard/'

/** src/admin/dashboard/ of this package, from src/admin/dashboard/serve.ts and from dist/admin/dashboard/serve.js alike. */
const OWN_DIR = fileURLToPath(new URL('../../../src/admin/dashboard/', import.meta.url))
const require = createRequire(import.meta.url)

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' }

/** Served name → file. Only these: a request names a key, never a path, so nothing else on disk is reachable. */
const FILES: Record<string, () => string> = {
  'index.html': () => OWN_DIR + 'index.html',
  'dashboard.css': () => OWN_DIR + 'dashboard.css',
  'main.js': () => OWN_DIR + 'main.js',
  'api.js': () => OWN_DIR + 'api.js',
  'actions.js': () => OWN_DIR + 'actions.js',
  'nodes.js': () => OWN_DIR + 'nodes.js',
  'charts.js': () => OWN_DIR + 'charts.js',
  'events.js': () => OWN_DIR + 'events.js',
  'panels.js': () => OWN_DIR + 'panels.js',
  'history.js': () => OWN_DIR + 'history.js',
  'format.js': () => OWN_DIR + 'format.js',
  // uPlot (MIT, ~50 KB minified): small, maintained, and fast enough to redraw every chart each second.
  'uplot.min.js': () => require.resolve('uplot/dist/uPlot.iife.min.js'),
  'uplot.min.css': () => require.resolve('uplot/dist/uPlot.min.css'),
}

const cache = new Map<string, DashboardAsset>()

/**
 * The file a GET of `pathname` is for, or undefined when it names none. Throws (an Error naming the file)
 * when the file is missing from the installation: the caller answers 500 INTERNAL with that message.
 */
export function dashboardAsset(pathname: string): DashboardAsset | undefined {
  const name = DASHBOARD_PATHS.has(pathname) ? 'index.html' : pathname.startsWith(ASSET_PREFIX) ? pathname.slice(ASSET_PREFIX.length) : undefined
  const file = name !== undefined && Object.hasOwn(FILES, name) ? FILES[name] : undefined
  if (!name || !file) return undefined
  let asset = cache.get(name)
  if (!asset) {
    let path = name
    try {
      path = file()
      const body = readFileSync(path)
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
      asset = { contentType: TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream', body, etag }
    } catch (e) {
      throw new Error(`dashboard file ${path} cannot be read (${(e as Error).message}); reinstall @lifeline/devserver (uplot is one of its dependencies)`)
    }
    cache.set(name, asset)
  }
  return asset
}
