// Numbers and times as the page shows them.
const integer = new Intl.NumberFormat('en', { maximumFractionDigits: 0 })
const oneDecimal = new Intl.NumberFormat('en', { maximumFractionDigits: 1 })

/** 1,234 · 12.5 · – for nothing. */
export function count(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–'
  return n >= 100 || Number.isInteger(n) ? integer.format(n) : oneDecimal.format(n)
}

/** 850 ms · 1.2 s · 2.0 min */
export function duration(ms) {
  if (ms === null || ms === undefined) return '–'
  if (ms < 1_000) return `${integer.format(ms)} ms`
  if (ms < 60_000) return `${oneDecimal.format(ms / 1_000)} s`
  return `${oneDecimal.format(ms / 60_000)} min`
}

/** 12 KB · 3.4 MB */
export function bytes(n) {
  if (n === undefined) return ''
  if (n < 1_024) return `${n} B`
  if (n < 1_048_576) return `${oneDecimal.format(n / 1_024)} KB`
  return `${oneDecimal.format(n / 1_048_576)} MB`
}

/** 14:03:07.215, local time. */
export function clock(at) {
  const d = new Date(at)
  const two = (v) => String(v).padStart(2, '0')
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`
}
