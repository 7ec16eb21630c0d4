/**
 * What the e2e pages (app/index.html for the SDK, app/react.html for React) share, read the way a person sees
 * them: where the page is served, the `issued` event a compose form reports, and a rendered list of messages.
 */
import { expect, type Locator, type Page } from '@playwright/test'
import type { Seen } from './tally.js'

/** The URL of `file` in the served e2e app (playwright.config.ts's global setup serves it) with `params`. */
export function pageUrl(file: string, params: URLSearchParams): string {
  const base = process.env.LIFELINE_E2E_APP_URL
  if (!base) throw new Error('LIFELINE_E2E_APP_URL is not set: run the specs through playwright.config.ts (global setup serves the page)')
  return `${base}${file}?${params}`
}

/** Resolves once the page has issued every call of the batch with this prefix. */
export async function issuedOn(page: Page, prefix: string): Promise<void> {
  await expect(page.locator(`#events li[data-kind="issued"][data-prefix="${prefix}"]`)).toHaveCount(1, { timeout: 30_000 })
}

/** A rendered message list (`<li data-topic data-offset data-epoch data-id>`), in order. */
export function seenIn(items: Locator): Promise<Seen[]> {
  return items.evaluateAll((lis) =>
    lis.map((li) => {
      const d = (li as HTMLElement).dataset
      return { topic: d.topic ?? '', offset: Number(d.offset), epoch: d.epoch ?? '', id: d.id ?? '' }
    }),
  )
}
