/** JSON nesting depth, in its own module so the SDK's bundle takes it without the zod schemas. */

/**
 * True when `text` (JSON) nests arrays/objects more than `max` deep. A scan of the text, not of a parsed value, so
 * it costs no allocation and works before JSON.parse; brackets inside strings are skipped.
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 34) {
      // A string: skip to its closing quote, stepping over escapes.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i)
        if (d === 92) i++
        else if (d === 34) break
      }
    } else if (c === 123 || c === 91) {
      if (++depth > max) return true
    } else if (c === 125 || c === 93) depth--
  }
  return false
}
