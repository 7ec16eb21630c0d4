/**
 * Builds the e2e pages (e2e/app) the way an app would be built: Vite bundles `@lifeline/sdk` and `@lifeline/react`
 * from their package exports (packages/sdk/dist, packages/react/dist: `npm run build` first). Two pages:
 * index.html (the SDK alone) and react.html (the React bindings; Vite compiles its TSX for React's automatic JSX
 * runtime). Playwright's global setup runs this build; to look at the pages by hand: `npx vite build -c
 * e2e/vite.config.ts && npx vite preview -c e2e/vite.config.ts`, then open them with
 * `?ws=ws://127.0.0.1:<cluster port>&topic=demo` (react.html the same).
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

export default defineConfig({
  root: fileURLToPath(new URL('./app', import.meta.url)),
  // Relative asset URLs: the page is served from whatever free port the static server got.
  base: './',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    rolldownOptions: { input: { index: fileURLToPath(new URL('./app/index.html', import.meta.url)), react: fileURLToPath(new URL('./app/react.html', import.meta.url)) } },
  },
  preview: { host: '127.0.0.1', port: 0 },
})
