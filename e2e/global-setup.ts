/**
 * Builds the e2e pages with Vite and serves them on a free port for the whole run. The URL reaches the workers
 * through LIFELINE_E2E_APP_URL (workers start after global setup and inherit its environment).
 * Clusters are not started here: each worker gets its own from the `cluster` fixture.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import { serveStatic } from './support/static-server.js'

export default async function globalSetup(): Promise<() => Promise<void>> {
  for (const pkg of ['sdk', 'react']) {
    const dist = fileURLToPath(new URL(`../packages/${pkg}/dist/index.js`, import.meta.url))
    if (!existsSync(dist)) throw new Error(`e2e: ${dist} is missing; run \`npm run build\` first (npm test does it).`)
  }
  const configFile = fileURLToPath(new URL('./vite.config.ts', import.meta.url))
  await build({ configFile })
  const app = await serveStatic(fileURLToPath(new URL('./app/dist', import.meta.url)))
  process.env.LIFELINE_E2E_APP_URL = app.url
  return app.close
}
