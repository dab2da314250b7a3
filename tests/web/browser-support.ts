import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { deletePrefix, publisherKey, startTestService } from '../support/test-service.js';

/** Debian's Chromium (never a downloaded browser), headless, without background traffic. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** What a page did that it should not: dialogs (alert, confirm…), console errors and uncaught exceptions. */
export interface PageTrouble {
  dialogs: string[];
  consoleErrors: string[];
  pageErrors: string[];
}

/** Records dialogs (dismissing them), console errors and page errors of `page` from now on. */
export function watchPage(page: Page): PageTrouble {
  const trouble: PageTrouble = { dialogs: [], consoleErrors: [], pageErrors: [] };
  page.on('dialog', (dialog) => {
    trouble.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    if (message.type() === 'error') trouble.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => trouble.pageErrors.push(error.message));
  return trouble;
}

/** The ids of the updates shown on a live blog page, in document order. */
export function shownIds(page: Page): Promise<string[]> {
  return page.$$eval('article.update', (articles) => articles.map((a) => (a as HTMLElement).dataset.id ?? ''));
}

/** The in-process service and the browser context of one test file. */
export interface BrowserSuite {
  readonly service: RunningService;
  readonly context: BrowserContext;
}

/**
 * Starts the service (on its own key prefix, with `env` over the test configuration) and Chromium before the file's tests and stops both after.
 * Playwright waits fail after 8 s, well within a test's own timeout, naming the selector that was awaited.
 */
export function useBrowserSuite(prefix: string, contextOptions: BrowserContextOptions, env: Record<string, string> = {}): BrowserSuite {
  let service: RunningService | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  beforeAll(async () => {
    [service, browser] = await Promise.all([startTestService(prefix, env), launchChromium()]);
    context = await browser.newContext(contextOptions);
    context.setDefaultTimeout(8_000);
  });
  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    await deletePrefix(prefix);
  });
  return {
    get service() {
      return service!;
    },
    get context() {
      return context!;
    },
  };
}

/** A story id of its own for one test. */
export const newStory = (name: string): string => `${name}-${randomUUID().slice(0, 8)}`;

/** Opens the desk (on `page`, or a new one) and signs in with `key`; resolves once the desk shows. */
export async function signInToDesk(suite: BrowserSuite, key: string = publisherKey, page?: Page): Promise<Page> {
  const desk = page ?? (await suite.context.newPage());
  await desk.goto(`${suite.service.url}/desk`);
  await desk.fill('#key-input', key);
  await desk.click('#key-form button[type="submit"]');
  await desk.waitForSelector('#desk:not([hidden])');
  return desk;
}

/** Signs in to the desk and picks `story`; resolves once its work area shows it live. */
export async function openDesk(suite: BrowserSuite, story: string, key: string = publisherKey): Promise<Page> {
  const page = await signInToDesk(suite, key);
  await page.click(`button[data-story="${story}"]`);
  await page.waitForSelector('#story-work:not([hidden])');
  await page.waitForSelector('#status-badge[data-status="live"]');
  return page;
}
