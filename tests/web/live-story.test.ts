import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, publisherKey, statement, uniquePrefix } from '../support/test-service.js';
import { newStory, openDesk, useBrowserSuite, watchPage } from './browser-support.js';

const prefix = uniquePrefix('web-live-story');
let partner: { origin: string; server: Server };
const suite = useBrowserSuite(prefix, { viewport: { width: 1300, height: 900 } } );
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** A partner article that pastes the embed snippet of the story named in the query. */
beforeAll(async () => {
  const server = createServer((request, response) => {
    const story = new URL(request.url ?? '/', 'http://x').searchParams.get('story') ?? '';
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Partner</title></head><body><main><h1>Partner news</h1>` +
        `<script src="${suite.service.url}/embed.js" data-story="${story}" data-limit="5" async></script></main></body></html>`,
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  partner = { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
});
afterAll(() => partner?.server.close());

async function api(method: string, path: string, body: unknown): Promise<any> {
  const response = await fetch(`${suite.service.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}` },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

const putMeta = (story: string, meta: Record<string, unknown>) => api('PUT', `/v1/stories/${story}`, meta);
async function append(story: string, body: Record<string, unknown>): Promise<string> {
  const answer = await post(suite.service.url, story, body);
  if (answer.status !== 201) throw new Error(`POST answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body.id as string;
}

async function openPage(story: string): Promise<Page> {
  const page = await suite.context.newPage();
  await page.goto(`${suite.service.url}/stories/${story}`);
  await page.waitForSelector('#status-badge[data-status="live"]');
  return page;
}

async function openEmbed(story: string): Promise<Page> {
  const page = await suite.context.newPage();
  await page.goto(`${partner.origin}/?story=${story}`);
  await page.waitForSelector('stoppress-embed .status-badge[data-status="live"]');
  return page;
}

/** Runs axe-core in the page (evaluated, so the page's CSP does not apply) and answers its violations. */
async function axeViolations(page: Page): Promise<{ id: string; nodes: string[] }[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  return violations;
}

describe('story changes reach open pages live', () => {
  it('changes the title and flips to ENDED on the page, the embed and the desk without a reload', async () => {
    const story = newStory('ends');
    await putMeta(story, { title: 'Troops at the border', status: 'live' });
    await append(story, statement('First report.'));
    const [page, embed, desk] = await Promise.all([openPage(story), openEmbed(story), openDesk(suite, story)]);
    const trouble = watchPage(page);
    expect(await page.locator('.story-state').textContent()).toBe('Live');

    await putMeta(story, { title: 'Troops go home', summary: 'Drills are over.', status: 'ended', coverageEndTime: '2022-02-15T23:00:00Z' });
    await page.waitForFunction(() => document.querySelector('.story-state')?.textContent === 'Ended');
    expect(await page.locator('h1.headline').textContent()).toBe('Troops go home');
    expect(await page.locator('.summary').textContent()).toBe('Drills are over.');
    expect(await page.title()).toBe('Troops go home · Live');
    await page.waitForSelector('#status-badge:has-text("Up to date")');
    // Ended: the embed's section says so, and its LIVE pill is gone.
    await embed.waitForFunction(() => {
      const root = document.querySelector('stoppress-embed')?.shadowRoot;
      return root?.querySelector<HTMLElement>('.sp')?.dataset.status === 'ended' && root.querySelector<HTMLElement>('.sp-live')?.hidden === true;
    });
    expect(await embed.locator('stoppress-embed .sp-title').textContent()).toBe('Troops go home');
    await desk.waitForFunction(() => document.getElementById('story-heading')?.textContent === 'Troops go home');
    await desk.waitForSelector('#coverage-toggle:has-text("Reopen coverage")');
    // Never shown as an update.
    expect(await page.locator('article.update').count()).toBe(1);
    expect(await embed.locator('stoppress-embed article.update').count()).toBe(1);
    expect(trouble).toEqual({ dialogs: [], consoleErrors: [], pageErrors: [] });
    await Promise.all([page.close(), embed.close(), desk.close()]);
  });
});

describe('images, links and the pinned post', () => {
  it('renders links and images safely, server-side and live, with no script run', async () => {
    const story = newStory('rich');
    await putMeta(story, { title: 'Rich', status: 'live' });
    const hostileText = 'Read https://example.com/report?a=1&b=2. Not javascript:alert(1) <img src=x onerror=alert(1)>';
    const image = { url: 'https://127.0.0.1:1/tank.jpg', alt: 'A tank "on" a <train>', caption: '<b>Loading</b>', credit: 'Photo: Agency', width: 800, height: 600 };
    const first = await append(story, statement(hostileText, { image }));
    const page = await openPage(story);
    const trouble = watchPage(page);
    const second = await append(story, statement(hostileText, { image }));
    await page.waitForSelector(`#u-${second}`);
    for (const id of [first, second]) {
      const links = await page.locator(`#u-${id} .update-text a`).evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.getAttribute('rel'), a.textContent]));
      expect(links).toEqual([['https://example.com/report?a=1&b=2', 'nofollow ugc noopener', 'https://example.com/report?a=1&b=2']]);
      expect(await page.locator(`#u-${id} .update-text img`).count()).toBe(0);
      const img = page.locator(`#u-${id} .update-image img`);
      expect(await img.getAttribute('src')).toBe('https://127.0.0.1:1/tank.jpg');
      expect(await img.getAttribute('alt')).toBe('A tank "on" a <train>');
      expect(await page.locator(`#u-${id} figcaption`).textContent()).toBe('<b>Loading</b> Photo: Agency');
    }
    const html = await (await fetch(`${suite.service.url}/stories/${story}`)).text();
    const ld = JSON.parse(/<script type="application\/ld\+json">([\s\S]*?)<\/script>/.exec(html)![1]!);
    expect(ld.liveBlogUpdate[0].image).toMatchObject({ url: 'https://127.0.0.1:1/tank.jpg', description: 'A tank "on" a <train>' });
    const csp = (await fetch(`${suite.service.url}/stories/${story}`)).headers.get('content-security-policy');
    expect(csp).toContain("img-src 'self' data: https:");
    expect(trouble.dialogs).toEqual([]);
    await page.close();
  });

  it('shows the pinned post first on the page and the embed, and moves it live when the pin moves', async () => {
    const story = newStory('pin');
    await putMeta(story, { title: 'Pinned', status: 'live' });
    const old = await append(story, statement('The background: what we know.'));
    const middle = await append(story, statement('Middle.'));
    const newest = await append(story, statement('Newest.'));
    await api('POST', `/v1/stories/${story}/updates/${old}/flags`, { pinned: true });

    const html = await (await fetch(`${suite.service.url}/stories/${story}`)).text();
    expect(html.indexOf(`id="u-${old}"`)).toBeLessThan(html.indexOf(`id="u-${newest}"`));
    expect(html.match(new RegExp(`id="u-${old}"`, 'g'))).toHaveLength(1);

    const [page, embed] = await Promise.all([openPage(story), openEmbed(story)]);
    const pageOrder = () => page.locator('article.update').evaluateAll((as) => as.map((a) => (a as HTMLElement).dataset.id));
    const embedOrder = () => embed.locator('stoppress-embed article.update').evaluateAll((as) => as.map((a) => (a as HTMLElement).dataset.id));
    expect(await pageOrder()).toEqual([old, newest, middle]);
    expect(await embedOrder()).toEqual([old, newest, middle]);
    expect(await page.locator('#pinned-post .flag-pinned').count()).toBe(1);

    await api('POST', `/v1/stories/${story}/updates/${middle}/flags`, { pinned: true, key: true });
    await page.waitForFunction((id) => document.querySelector('#pinned-slot > article')?.getAttribute('data-id') === id, middle);
    expect(await pageOrder()).toEqual([middle, newest, old]);
    expect(await page.locator(`#u-${old} .flag-pinned`).count()).toBe(0);
    expect(await page.locator(`.key-event-list li[data-id="${middle}"]`).count()).toBe(1);
    expect(await page.locator(`#u-${middle} > .update-head .flag-key`).count()).toBe(1);
    await embed.waitForFunction(
      (id) => document.querySelector('stoppress-embed')?.shadowRoot?.querySelector('article.update')?.getAttribute('data-id') === id,
      middle,
    );
    expect(await embedOrder()).toEqual([middle, newest, old]);

    await api('POST', `/v1/stories/${story}/updates/${middle}/flags`, { pinned: false, key: false });
    await page.waitForFunction(() => document.getElementById('pinned-post')?.hidden === true);
    expect(await pageOrder()).toEqual([newest, middle, old]);
    expect(await page.locator('.key-event-list li').count()).toBe(0);
    await Promise.all([page.close(), embed.close()]);
  });
});

describe('the desk', () => {
  it('toggles key event and pin on a published update, publishes with Ctrl+Enter and counts characters', async () => {
    const story = newStory('desk-flags');
    await putMeta(story, { title: 'Desk flags', status: 'live' });
    const id = await append(story, statement('Toggle me.'));
    const desk = await openDesk(suite, story);
    const key = desk.locator(`button[data-action="key"][data-id="${id}"]`);
    const pin = desk.locator(`button[data-action="pin"][data-id="${id}"]`);
    expect(await key.getAttribute('aria-pressed')).toBe('false');
    await key.focus();
    await desk.keyboard.press('Enter');
    await desk.waitForSelector(`button[data-action="key"][data-id="${id}"][aria-pressed="true"]`);
    await pin.click();
    await desk.waitForSelector(`button[data-action="pin"][data-id="${id}"][aria-pressed="true"]`);
    let view = await (await fetch(`${suite.service.url}/v1/stories/${story}`)).json();
    expect(view.pinned).toBe(id);
    expect(view.updates[0].key).toBe(true);
    await desk.locator(`button[data-action="key"][data-id="${id}"]`).click();
    await desk.waitForSelector(`button[data-action="key"][data-id="${id}"][aria-pressed="false"]`);
    view = await (await fetch(`${suite.service.url}/v1/stories/${story}`)).json();
    expect(view.updates[0].key).toBeUndefined();

    await desk.fill('#f-text', 'Sent with the keyboard.');
    expect(await desk.locator('#f-text-count').textContent()).toBe('23 / 10,000 characters');
    await desk.press('#f-text', 'Control+Enter');
    await desk.waitForSelector('#publish-form-ok:has-text("Published.")');
    expect(await desk.locator('#f-text-count').textContent()).toBe('0 / 10,000 characters');
    const updates = (await (await fetch(`${suite.service.url}/v1/stories/${story}/updates`)).json()).updates;
    expect(updates.map((u: { text: string }) => u.text)).toEqual(['Toggle me.', 'Sent with the keyboard.']);
    await desk.close();
  });
});

describe('accessibility (axe-core in Chromium)', () => {
  it('finds no violations on the desk, the page and the embed', async () => {
    const story = newStory('axe');
    await putMeta(story, { title: 'Accessible', summary: 'Checked by axe.', status: 'live' });
    const first = await append(story, statement('With a link https://example.com and a picture.', { key: true, image: { url: 'https://127.0.0.1:1/logo.png', alt: 'The logo' }, source: { name: 'A Source', role: 'Role' } }));
    await append(story, { kind: 'reaction', occurredAt: '2022-02-15T10:00:00+03:00', text: 'A reaction.', inReplyTo: first });
    const fixed = await append(story, statement('To be corrected.'));
    await append(story, { kind: 'correction', corrects: fixed, text: 'Corrected.', note: 'Fixed.' });
    await api('POST', `/v1/stories/${story}/updates/${first}/flags`, { pinned: true });

    const page = await openPage(story);
    expect(await axeViolations(page)).toEqual([]);
    const embed = await openEmbed(story);
    await embed.waitForSelector('stoppress-embed article.update');
    expect(await axeViolations(embed)).toEqual([]);
    const desk = await openDesk(suite, story);
    await desk.waitForSelector('#desk-feed article.update');
    expect(await axeViolations(desk)).toEqual([]);
    await desk.click(`button[data-action="correct"][data-id="${fixed}"]`);
    expect(await axeViolations(desk)).toEqual([]);
    await Promise.all([page.close(), embed.close(), desk.close()]);
  });
});
