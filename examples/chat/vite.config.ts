/**
 * The chat example's Vite config. `root` is this folder, so both `npx vite examples/chat` and
 * `npx vite --config examples/chat/vite.config.ts` serve the same page from the repo root.
 * `@lifeline/sdk` resolves to packages/sdk/dist through the root workspace link: `npm run build` (or `npm start`) first.
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Relative asset URLs, so the built page (dist/) works from any static server and path.
  base: './',
  // Loopback only: the page is a local demo, and the cluster's admin API answers loopback clients only anyway.
  // No fixed port: Vite's default (5173) or `--port`, moving to the next free one if it is taken.
  server: { host: '127.0.0.1', strictPort: false },
  preview: { host: '127.0.0.1', strictPort: false },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
})
