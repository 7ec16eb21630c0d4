/**
 * The React chat's Vite config, like examples/chat's: `root` is this folder, so `npx vite examples/react-chat` and
 * `npx vite --config examples/react-chat/vite.config.ts` serve the same page from the repo root. TSX compiles for
 * React's automatic JSX runtime with Vite's defaults (no plugin needed). `@lifeline/sdk` and `@lifeline/react`
 * resolve to packages/sdk/dist and packages/react/dist through the root workspace: `npm run build` (or
 * `npm start`) first.
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Relative asset URLs, so the built page (dist/) works from any static server and path.
  base: './',
  // Loopback only, Vite's default port or `--port`, as for examples/chat.
  server: { host: '127.0.0.1', strictPort: false },
  preview: { host: '127.0.0.1', strictPort: false },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
})
