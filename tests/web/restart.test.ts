import { Redis } from 'ioredis';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoryStore } from '../../src/store/story-store.js';
import { freePort, startChildService, type ChildService } from '../support/child-service.js';
import { deletePrefix, post, redisUrl, statement, uniquePrefix } from '../support/test-service.js';
import { launchChromium, shownIds, watchPage } from './browser-support.js';

const prefix = uniquePrefix('web-restart');
const children: ChildService[] = [];
let browser: Browser;
let redis: Redis;

beforeAll(async () => {
  browser = await launchChromium();
  redis = new Redis(redisUrl);
});

afterAll(async () => {
  await browser?.close();
  for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
  redis?.disconnect();
  await deletePrefix(prefix);
});

async function startOn(port: number): Promise<ChildService> {
  const child = await startChildService(prefix, {}, port);
  children.push(child);
  return child;
}

async function append(url: string, story: string, text: string): Promise<string> {
  const answer = await post(url, story, statement(text));
  if (answer.status !== 201) throw new Error(`POST answered ${answer.status}`);
  return answer.body.id as string;
}

describe('a reader across a service restart', () => {
  it('shows reconnecting, then catches up with nothing missing and nothing doubled', async () => {
    const port = await freePort();
    const story = 'restart-story';
    let service = await startOn(port);
    for (let i = 0; i < 3; i++) await append(service.url, story, `before the page ${i}`);

    const page = await browser.newPage();
    // Reconnects back off (up to a few seconds here); fail on the awaited selector well before the test's timeout.
    page.setDefaultTimeout(15_000);
    const trouble = watchPage(page);
    await page.goto(`${service.url}/stories/${story}`);
    await page.waitForSelector('#status-badge[data-status="live"]');
    const live = await append(service.url, story, 'while the page is open');
    await page.waitForSelector(`#u-${live}`);

    // The node stops (SIGTERM: sockets closed with 1001); updates keep coming in meanwhile, written straight
    // into Redis as another node would.
    service.process.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    await page.waitForSelector('#status-badge[data-status="reconnecting"]');
    await expect(page.locator('#status-badge .status-text').textContent()).resolves.toBe('Reconnecting…');
    const store = new StoryStore(redis, { keyPrefix: prefix, streamMaxLen: 10_000, idempotencyTtlSeconds: 60 });
    const whileDown: string[] = [];
    for (let i = 0; i < 3; i++) whileDown.push((await store.append(story, { kind: 'statement', occurredAt: new Date().toISOString(), text: `while down ${i}` })).id);
    const target = whileDown[0]!;
    await store.append(story, { kind: 'correction', corrects: target, text: 'while down 0, corrected', note: 'fixed while the node was down' });

    service = await startOn(port);
    const after: string[] = [];
    for (let i = 0; i < 3; i++) after.push(await append(service.url, story, `after the restart ${i}`));
    await page.waitForSelector('#status-badge[data-status="live"]');
    await page.waitForSelector(`#u-${after.at(-1)}`);

    const stored = (await (await fetch(`${service.url}/v1/stories/${story}/updates?limit=1000`)).json()) as { updates: { id: string; kind: string }[] };
    const expected = stored.updates.filter((u) => u.kind !== 'correction').map((u) => u.id).reverse();
    const shown = await shownIds(page);
    expect(new Set(shown).size).toBe(shown.length);
    expect(shown).toEqual(expected);
    expect(shown).toEqual(expect.arrayContaining([...whileDown, ...after]));
    await expect(page.locator(`#u-${target} .update-text`).textContent()).resolves.toBe('while down 0, corrected');
    await expect(page.locator(`#u-${target} .correction-note`).textContent()).resolves.toBe('fixed while the node was down');
    expect(trouble.dialogs).toEqual([]);
    expect(trouble.pageErrors).toEqual([]);
    await page.close();
  }, 40_000);
});
