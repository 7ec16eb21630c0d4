// Charts on uPlot (loaded before this module as the global `uPlot`, from the uplot package: no CDN). Each chart
// is made once and then only given new data: setData redraws its canvas, nothing in the DOM is rebuilt.

/** Seconds of history a time chart shows: a failover and its recovery, at one sample a second. */
export const WINDOW_S = 120

const FONT = '11px system-ui, sans-serif'
const GRID = { stroke: 'rgba(0,0,0,.07)', width: 1 }
const axis = (extra) => ({ font: FONT, stroke: '#667', grid: GRID, ticks: { show: false }, ...extra })
/** Tick labels on the time axis: local hh:mm:ss (uPlot's default adds the date, which crowds a small chart). */
const two = (v) => String(v).padStart(2, '0')
const timeTicks = (_u, splits) => splits.map((s) => {
  const d = new Date(s * 1_000)
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
})
/** Seconds a time chart shows at least: a cluster just started fills its charts instead of their right edge. */
const MIN_WINDOW_S = 30
/** The newest WINDOW_S seconds, or all there is when that is less (but at least MIN_WINDOW_S). */
const timeRange = (_u, min, max) => [Math.min(max - MIN_WINDOW_S, Math.max(min, max - WINDOW_S)), max]
/** From 0, with headroom, and never an empty range (a flat 0 line sits at the bottom). */
const fromZero = (_u, _min, max) => [0, Math.max(1, Math.ceil((max || 0) * 1.15))]

/** Keeps the chart as wide as its box. */
function fit(plot, el, height) {
  const observer = new ResizeObserver(() => {
    const width = Math.floor(el.clientWidth)
    if (width > 0 && width !== plot.width) plot.setSize({ width, height })
  })
  observer.observe(el)
}

/**
 * Lines over time. `series`: [{ label, stroke, fill? }]. setData(at, columns): `at` in ms since the epoch,
 * one column per series (numbers, or null where there is no value: the line breaks there).
 */
export class TimeChart {
  constructor(el, { series, height = 150 }) {
    const opts = {
      width: Math.max(200, Math.floor(el.clientWidth)),
      height,
      padding: [8, 24, 0, 0],
      legend: { show: series.length > 1, live: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: { x: { time: true, range: timeRange }, y: { range: fromZero } },
      axes: [axis({ space: 70, size: 26, values: timeTicks }), axis({ size: 44, space: 24 })],
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, fill: s.fill, width: 1.5, points: { show: false }, spanGaps: false }))],
    }
    const now = Date.now() / 1_000
    this.plot = new uPlot(opts, [[now - 1, now], ...series.map(() => [null, null])], el)
    fit(this.plot, el, height)
  }

  setData(at, columns) {
    if (at.length === 0) return
    this.plot.setData([at.map((t) => t / 1_000), ...columns])
  }
}

/** A label per bucket where they fit (about 34 px each), else every other one. */
function bucketTicks(u, splits, labels) {
  const every = u.width / labels.length < 34 ? 2 : 1
  return splits.map((i) => (i % every === 0 ? labels[i] ?? '' : ''))
}

/**
 * Bars over labelled buckets (the reconnect histogram): setData(counts), one per label.
 */
export class BucketChart {
  constructor(el, { labels, stroke, fill, height = 150 }) {
    this.labels = labels
    const xs = labels.map((_, i) => i)
    const opts = {
      width: Math.max(200, Math.floor(el.clientWidth)),
      height,
      padding: [8, 24, 0, 0],
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: fromZero } },
      axes: [
        axis({ space: 30, size: 26, splits: () => xs, values: (u, splits) => bucketTicks(u, splits, labels), grid: { show: false } }),
        axis({ size: 44, space: 24 }),
      ],
      series: [{}, { label: 'resumes', stroke, fill, width: 1, points: { show: false }, paths: uPlot.paths.bars({ size: [0.8, 48] }) }],
    }
    this.xs = xs
    this.plot = new uPlot(opts, [xs, labels.map(() => 0)], el)
    fit(this.plot, el, height)
  }

  setData(counts) {
    this.plot.setData([this.xs, counts])
  }
}
