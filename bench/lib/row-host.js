/**
 * Runs one row (bench/rows/<name>.js) in its own process and sends its result to the runner over IPC. One
 * process per row: a row that leaks a handle or a child cannot slow or hang the next one (the runner kills
 * this process group when the row is done or over its time).
 */
const [name, ...flags] = process.argv.slice(2)
const quick = flags.includes('--quick')
try {
  const mod = await import(new URL(`../rows/${name}.js`, import.meta.url).href)
  const result = await mod.run({ quick })
  process.send?.({ result })
} catch (e) {
  process.send?.({ error: String(/** @type {Error | null} */ (e)?.stack ?? e) })
}
// Wait for the IPC message to flush, then leave even if some socket is still open.
process.channel?.unref()
setTimeout(() => process.exit(0), 100)
