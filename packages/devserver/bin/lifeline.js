#!/usr/bin/env node
// A committed, executable entry for the `lifeline` command: npm links `bin` at install time, before
// `npm run build` has written dist/, and tsc does not set the execute bit on dist/cli.js.
import '../dist/cli.js'
