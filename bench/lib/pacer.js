/**
 * A publisher's clock: calls `send(room, i)` at `rate` messages/s, rooms in turn, ids dense per room from 1.
 * Ticks every 20 ms and sends whatever is due, so a late tick catches up instead of lowering the rate.
 */
/**
 * @param {{ rate: number, rooms: number, send: (room: string, i: number) => void }} options
 */
export function startPacer({ rate, rooms, send }) {
  /** @type {Record<string, number>} Messages published so far, by room: its stream's highest i. */
  const published = {}
  for (let r = 0; r < rooms; r++) published[`room-${r}`] = 0
  const t0 = Date.now()
  let sent = 0
  const tick = () => {
    const due = Math.floor(((Date.now() - t0) * rate) / 1000)
    while (sent < due) {
      const room = `room-${sent % rooms}`
      const i = (published[room] ?? 0) + 1
      published[room] = i
      send(room, i)
      sent++
    }
  }
  const timer = setInterval(tick, 20)
  return {
    published,
    get sent() {
      return sent
    },
    stop() {
      clearInterval(timer)
      tick()
    },
  }
}
