/**
 * Builds the e2e page (e2e/app) the way an app would be built: Vite bundles `@lifeline/sdk` from its package
 * exports (packages/sdk/dist, so `npm run build` first). Playwright's global setup runs this build; to look at
 * the page by hand: `npx vite build -c e2e/vite.config.ts && npx vite preview -c e2e/vite.config.ts`, then open
 * it with `?ws=ws://127.0.0.1:<cluster port>&topic=demo`.
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

export default defineConfig({
  root: fileURLToPath(new URL('./app', import.meta.url)),
  // Relative asset URLs: the page is served from whatever free port the static server got.
  base: './',
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2022' },
  preview: { host: '127.0.0.1', port: 0 },
})
