/**
 * What the page remembers about one room, kept in sessionStorage next to the SDK's own state so a reload shows the
 * same chat. The SDK resumes from its stored position and delivers only what came after, exactly once; the lines
 * already shown are the app's to keep, hence this file.
 *
 * It also counts what the SDK promises never happens: an offset delivered twice, or one skipped without a `gap`.
 * The page shows both counts; they stay 0.
 */

/** A chat message as published on the room's topic. `author` is a per-tab id: "is this mine?". */
export interface ChatData {
  id: string
  author: string
  user: string
  text: string
}

export type Status = 'sending' | 'sent' | 'delivered' | 'failed' | 'unknown'

export type Entry =
  | ({ kind: 'msg'; status: Status; offset?: number; note?: string; at: number } & ChatData)
  | { kind: 'sys'; tone: 'info' | 'ok' | 'warn' | 'error'; text: string; at: number }

interface Saved {
  entries: Entry[]
  /** Last delivered offset and its epoch; epoch '*' after a gap that replaced the log (any epoch is next). */
  last: { offset: number; epoch: string } | null
  delivered: number
  duplicated: number
  outOfOrder: number
}

/** Enough scrollback for a demo while staying far inside sessionStorage's ~5 MB. */
const MAX_ENTRIES = 300

export class Room {
  private state: Saved

  constructor(
    readonly topic: string,
    private readonly storage: Storage,
  ) {
    this.state = load(storage, key(topic))
  }

  get entries(): readonly Entry[] { return this.state.entries }
  get tally() { return { delivered: this.state.delivered, duplicated: this.state.duplicated, outOfOrder: this.state.outOfOrder } }

  system(tone: 'info' | 'ok' | 'warn' | 'error', text: string): void {
    this.push({ kind: 'sys', tone, text, at: Date.now() })
  }

  /** A message this tab is publishing: shown at once, confirmed later by `status` and `delivered`. */
  sending(data: ChatData): void {
    this.push({ kind: 'msg', status: 'sending', at: Date.now(), ...data }, true)
  }

  /** A publish settled (or its fate became unknown). A delivered line keeps its state: delivery is the stronger fact. */
  status(id: string, status: Status, note?: string): void {
    const entry = this.find(id)
    if (!entry || entry.status === 'delivered') return
    entry.status = status
    if (note) entry.note = note
    this.save()
  }

  /** A message of the topic, in the order the SDK delivers them. Replaces this tab's own "sending" line. */
  delivered(offset: number, epoch: string, data: ChatData): void {
    const last = this.state.last
    if (last && last.epoch === epoch && offset <= last.offset) this.state.duplicated += 1
    else if (last && last.epoch === epoch && offset !== last.offset + 1) this.state.outOfOrder += 1
    this.state.last = { offset, epoch }
    this.state.delivered += 1
    // The list shows the log's order: this tab's own line moves from where it was typed to where the log put it.
    const mine = this.find(data.id)
    if (mine) this.state.entries.splice(this.state.entries.indexOf(mine), 1)
    this.push({ kind: 'msg', status: 'delivered', offset, at: mine?.at ?? Date.now(), ...data })
  }

  /** The SDK said offsets from..to are gone: the next expected offset is to + 1, so they are not counted as skipped. */
  gap(reason: 'retention' | 'epoch', to: number): void {
    this.state.last = { offset: to, epoch: reason === 'epoch' ? '*' : (this.state.last?.epoch ?? '*') }
    this.save()
  }

  private find(id: string) {
    return this.state.entries.find((e): e is Extract<Entry, { kind: 'msg' }> => e.kind === 'msg' && e.id === id)
  }

  /** Lines on their way stay at the bottom, as chat apps do; everything else goes above them, in the order it happened. */
  private push(entry: Entry, atEnd = false): void {
    const onTheirWay = this.state.entries.findIndex((e) => e.kind === 'msg' && (e.status === 'sending' || e.status === 'sent'))
    this.state.entries.splice(atEnd || onTheirWay === -1 ? this.state.entries.length : onTheirWay, 0, entry)
    if (this.state.entries.length > MAX_ENTRIES) this.state.entries.splice(0, this.state.entries.length - MAX_ENTRIES)
    this.save()
  }

  private save(): void {
    try {
      this.storage.setItem(key(this.topic), JSON.stringify(this.state))
    } catch {
      // Storage full or disabled: the chat still works, it just will not survive a reload.
    }
  }
}

function key(topic: string): string {
  return `lifeline-chat:room:${topic}`
}

function load(storage: Storage, k: string): Saved {
  try {
    const raw = storage.getItem(k)
    if (raw) return JSON.parse(raw) as Saved
  } catch {
    // A corrupt entry starts the room afresh rather than breaking the page.
  }
  return { entries: [], last: null, delivered: 0, duplicated: 0, outOfOrder: 0 }
}

export function isChatData(data: unknown): data is ChatData {
  if (typeof data !== 'object' || data === null) return false
  const d = data as Record<string, unknown>
  return typeof d.id === 'string' && typeof d.author === 'string' && typeof d.user === 'string' && typeof d.text === 'string'
}
