/**
 * The e2e React page (e2e/app/react.tsx) as the React spec sees it: open it, drive its form, read its DOM.
 * Like app.ts for the SDK page, nothing here touches the SDK or React: only what a person could see and click.
 */
import { expect, type Page } from '@playwright/test'
import { issuedOn, pageUrl, seenIn } from './page-dom.js'
import type { Seen } from './tally.js'

export interface ReactQuery {
  ws: string
  topic: string
  persist?: 'session'
}

export function reactUrl(query: ReactQuery): string {
  const params = new URLSearchParams({ ws: query.ws, topic: query.topic })
  if (query.persist) params.set('persist', query.persist)
  return pageUrl('react.html', params)
}

export class ReactApp {
  constructor(readonly page: Page) {}

  static async open(page: Page, query: ReactQuery): Promise<ReactApp> {
    const app = new ReactApp(page)
    await page.goto(reactUrl(query))
    await app.ready()
    return app
  }

  /** Connected, and the feed's subscription confirmed. */
  async ready(timeout = 15_000): Promise<void> {
    await expect(this.page.locator('#state')).toHaveAttribute('data-state', 'open', { timeout })
    await expect(this.page.locator('#status')).toHaveAttribute('data-status', 'live', { timeout })
  }

  /** Publishes `prefix-1 … prefix-count` from the page, one every `intervalMs`. */
  async issue(prefix: string, count: number, intervalMs: number): Promise<void> {
    const form = this.page.locator('#compose')
    await form.getByLabel('Id prefix').fill(prefix)
    await form.getByLabel('Count').fill(String(count))
    await form.getByLabel('Every (ms)').fill(String(intervalMs))
    await form.getByRole('button', { name: 'Go' }).click()
  }

  async issued(prefix: string): Promise<void> {
    await issuedOn(this.page, prefix)
  }

  /** The feed as rendered, in order. */
  async feed(): Promise<Seen[]> {
    return seenIn(this.page.locator('#feed li'))
  }

  private async number(selector: string): Promise<number> {
    return Number(await this.page.locator(selector).textContent())
  }
  outbox = (): Promise<number> => this.number('#outbox')
  sockets = (): Promise<number> => this.number('#sockets')

  async sessionId(): Promise<string> {
    return (await this.page.locator('#session').textContent()) ?? ''
  }

  /** Events of one kind (gap, failed, issued). */
  async events(kind: string): Promise<Record<string, string>[]> {
    return this.page.locator(`#events li[data-kind="${kind}"]`).evaluateAll((lis) => lis.map((li) => ({ ...(li as HTMLElement).dataset }) as Record<string, string>))
  }
}
