/**
 * The e2e page (e2e/app) as the specs see it: open it with a query, drive its form, read its DOM.
 * Nothing here touches the SDK; everything goes through what a person could see and click.
 */
import { expect, type Page } from '@playwright/test'
import { issuedOn, pageUrl, seenIn } from './page-dom.js'
import type { Seen } from './tally.js'

export interface AppQuery {
  ws: string
  topics?: string[]
  persist?: 'session' | 'local'
  backoffMin?: number
  backoffMax?: number
  outboxMax?: number
  overflow?: 'reject' | 'drop-oldest'
}

export interface Batch {
  kind: 'publish' | 'send'
  /** Topic for `publish`; default: the page's first subscribed topic. */
  topic?: string
  prefix: string
  count: number
  /** Milliseconds between two calls; 0 issues them all at once. */
  intervalMs?: number
}

export interface StateChange {
  from: string
  to: string
  at: number
}

export function appUrl(query: AppQuery): string {
  const params = new URLSearchParams({ ws: query.ws })
  if (query.topics?.length) params.set('topic', query.topics.join(','))
  if (query.persist) params.set('persist', query.persist)
  if (query.backoffMin !== undefined) params.set('backoffMin', String(query.backoffMin))
  if (query.backoffMax !== undefined) params.set('backoffMax', String(query.backoffMax))
  if (query.outboxMax !== undefined) params.set('outboxMax', String(query.outboxMax))
  if (query.overflow) params.set('overflow', query.overflow)
  return pageUrl('', params)
}

export class App {
  constructor(readonly page: Page) {}

  /** Opens the page and waits until it is connected and its topics are subscribed. */
  static async open(page: Page, query: AppQuery): Promise<App> {
    const app = new App(page)
    await page.goto(appUrl(query))
    await app.ready()
    return app
  }

  async ready(): Promise<void> {
    await expect(this.page.locator('#state')).toHaveAttribute('data-state', 'open')
    await expect(this.page.locator('#subscribed')).toHaveAttribute('data-done', 'true')
  }

  /** Fills the form and clicks Go. The page issues the calls itself (at `intervalMs`), like a user's app would. */
  async issue(batch: Batch): Promise<void> {
    const form = this.page.locator('#compose')
    await form.getByLabel('Kind').selectOption(batch.kind)
    await form.getByLabel('Topic').fill(batch.topic ?? '')
    await form.getByLabel('Id prefix').fill(batch.prefix)
    await form.getByLabel('Count').fill(String(batch.count))
    await form.getByLabel('Every (ms)').fill(String(batch.intervalMs ?? 0))
    await form.getByRole('button', { name: 'Go' }).click()
  }

  /** Resolves once the page has issued every call of the batch with this prefix. */
  async issued(prefix: string): Promise<void> {
    await issuedOn(this.page, prefix)
  }

  async messages(): Promise<Seen[]> {
    return seenIn(this.page.locator('#messages li'))
  }

  async state(): Promise<string> {
    return (await this.page.locator('#state').getAttribute('data-state')) ?? ''
  }

  async sessionId(): Promise<string> {
    return (await this.page.locator('#session').textContent()) ?? ''
  }

  async pending(): Promise<number> {
    return Number(await this.page.locator('#pending').textContent())
  }

  async confirmed(): Promise<number> {
    return Number(await this.page.locator('#confirmed').textContent())
  }

  async rejections(): Promise<{ id: string; code: string }[]> {
    return this.page.locator('#rejections li').evaluateAll((lis) =>
      lis.map((li) => ({ id: (li as HTMLElement).dataset.id ?? '', code: (li as HTMLElement).dataset.code ?? '' })),
    )
  }

  /** Events of one kind (gap, reset, error, state, issued) with their data attributes. */
  async events(kind: string): Promise<Record<string, string>[]> {
    return this.page.locator(`#events li[data-kind="${kind}"]`).evaluateAll((lis) => lis.map((li) => ({ ...(li as HTMLElement).dataset }) as Record<string, string>))
  }

  async stateChanges(): Promise<StateChange[]> {
    const events = await this.events('state')
    return events.map((e) => ({ from: e.from ?? '', to: e.to ?? '', at: Number(e.at) }))
  }

  /**
   * The first outage after the page's `since`-th state change, as the page saw it: from leaving `open` to
   * the next `open`, in ms of the page's own clock. Waits (up to `timeout`) until the page has recorded it: the
   * cluster can know the page's new node (the balancer saw the welcome) before the page handled that welcome.
   */
  async outageMs(since: number, timeout = 15_000): Promise<number> {
    return this.await(async () => {
      const changes = (await this.stateChanges()).slice(since)
      const left = changes.find((c) => c.from === 'open')
      const back = left && changes.find((c) => c.to === 'open' && c.at >= left.at)
      return left && back ? back.at - left.at : undefined
    }, 'the page to record its outage', timeout)
  }

  /** The page's clock (performance.now()), the one its events are stamped with. */
  async clock(): Promise<number> {
    return this.page.evaluate(() => performance.now())
  }

  /** When (page clock) the page was next `open` at or after `at`; waits until it has been. */
  async openedAfter(at: number, timeout = 15_000): Promise<number> {
    return this.await(async () => (await this.stateChanges()).find((c) => c.to === 'open' && c.at >= at)?.at, 'the page to be open again', timeout)
  }

  /** When (page clock) the page next left `open` at or after `at`; waits until it has. */
  async leftOpenAfter(at: number, timeout = 15_000): Promise<number> {
    return this.await(async () => (await this.stateChanges()).find((c) => c.from === 'open' && c.at >= at)?.at, 'the page to leave open', timeout)
  }

  /** Polls `read` until it gives a value; fails naming `what` after `timeout`. */
  private async await(read: () => Promise<number | undefined>, what: string, timeout: number): Promise<number> {
    let value: number | undefined
    await expect.poll(async () => (value = await read()), { message: what, timeout }).toBeDefined()
    return value as number
  }

  /** Counts gap/reset/error events, for the one-line report: a failover should produce none. */
  async incidents(): Promise<string> {
    const [gaps, resets, errors] = await Promise.all([this.events('gap'), this.events('reset'), this.events('error')])
    return `gaps=${gaps.length} resets=${resets.length} errors=${errors.map((e) => e.code).join(',') || 0}`
  }
}
