import { chromium, type Browser, type Page } from 'playwright-core';

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
