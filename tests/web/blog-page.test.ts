import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { post, publisherKey, statement, uniquePrefix } from '../support/test-service.js';
import { newStory, shownIds, useBrowserSuite, watchPage } from './browser-support.js';

const prefix = uniquePrefix('web-blog');
const suite = useBrowserSuite(prefix, { viewport: { width: 1000, height: 700 }, locale: 'en-GB', timezoneId: 'Asia/Tokyo' });

async function append(story: string, body: Record<string, unknown>): Promise<{ id: string; [key: string]: unknown }> {
  const answer = await post(suite.service.url, story, body);
  if (answer.status !== 201) throw new Error(`POST answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function putMeta(story: string, meta: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${suite.service.url}/v1/stories/${story}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}` },
    body: JSON.stringify(meta),
  });
  if (response.status !== 200) throw new Error(`PUT answered ${response.status}`);
}

/** Opens a story's page and waits until the live connection is up. */
async function openLive(story: string): Promise<Page> {
  const page = await suite.context.newPage();
  await page.goto(`${suite.service.url}/stories/${story}`);
  await page.waitForSelector('#status-badge[data-status="live"]');
  return page;
}

function jsonLdOf(html: string): any {
  const match = /<script type="application\/ld\+json">([\s\S]*?)<\/script>/.exec(html);
  if (!match) throw new Error('no JSON-LD block');
  return JSON.parse(match[1]!);
}

describe('the live blog page without JavaScript', () => {
  it('renders headline, summary, updates newest first, corrections, withdrawals, reactions and key events', async () => {
    const story = newStory('static');
    await putMeta(story, { title: 'Troops return to base', summary: 'Moscow says drills are over.', status: 'live', coverageStartTime: '2022-02-15T08:00:00+01:00' });
    const first = await append(story, statement('Drills are over, the ministry says.', { key: true, source: { name: 'Igor Konashenkov', role: 'Spokesperson', org: 'Ministry of Defence' } }));
    const second = await append(story, statement('Units are loading onto trains.'));
    const reaction = await append(story, { kind: 'reaction', occurredAt: '2022-02-15T12:35:00+02:00', text: 'We will believe it when we see it.', inReplyTo: first.id, source: { name: 'Dmytro Kuleba' } });
    await append(story, { kind: 'correction', corrects: second.id, text: 'Units are loading onto trains and trucks.', note: 'Adds trucks.' });
    const withdrawn = await append(story, statement('A wrong report.'));
    await append(story, { kind: 'correction', corrects: withdrawn.id, retract: true, note: 'The report was not confirmed.' });

    const response = await fetch(`${suite.service.url}/stories/${story}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await response.text();

    expect(html).toContain('<h1 class="headline">Troops return to base</h1>');
    expect(html).toContain('Moscow says drills are over.');
    const { lastId } = (await (await fetch(`${suite.service.url}/v1/stories/${story}`)).json()) as { lastId: string };
    expect(html).toContain(`data-last-id="${lastId}"`);
    // Newest first: the withdrawn one, then the corrected one, then the first (with its reaction nested).
    const order = [withdrawn.id, second.id, first.id].map((id) => html.indexOf(`id="u-${id}"`));
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const firstArticle = html.slice(order[2]!);
    expect(firstArticle.indexOf(`id="u-${reaction.id}"`)).toBeGreaterThan(0);
    expect(firstArticle).toContain('<div class="reactions" role="group" aria-label="Reactions">');
    // Corrected text, the mark, the note, and the history in a <details>.
    expect(html).toContain('Units are loading onto trains and trucks.');
    expect(html).not.toContain('Units are loading onto trains.<');
    expect(html).toContain('<span class="corrected-mark">Corrected</span>');
    expect(html).toContain('<p class="correction-note">Adds trucks.</p>');
    expect(html).toMatch(/<details class="correction-history"><summary>Correction history \(1\)<\/summary>/);
    // Withdrawn: no text, the notice and the note.
    expect(html).not.toContain('A wrong report.');
    expect(html).toContain('This update has been withdrawn.');
    expect(html).toContain('The report was not confirmed.');
    // Key events list and mark; machine-readable times.
    expect(html).toMatch(/<nav class="key-events"[^>]*><h2 id="key-events-title">Key events<\/h2><ol class="key-event-list"><li data-id="[^"]+"><a href="#u-/);
    expect(html).toContain(`data-id="${first.id}" data-kind="statement" data-key=""`);
    expect(html).toContain('<time datetime="2022-02-15T10:00:00+03:00" data-time="absolute">15 Feb 2022, 07:00 UTC</time>');
    expect(html).toContain('<script type="module" src="/assets/blog.js"></script>');
    expect(html).not.toMatch(/<script>|style="/);
  });

  it('lists live stories on the index page, linking to their pages', async () => {
    const story = newStory('listed');
    await putMeta(story, { title: 'A listed story', status: 'live' });
    await append(story, statement('one'));
    const html = await (await fetch(`${suite.service.url}/`)).text();
    expect(html).toContain(`<a href="/stories/${story}"><span class="story-card-title">A listed story</span></a>`);
  });

  it('answers an HTML 404 for an unknown story or an invalid id', async () => {
    for (const path of ['/stories/no-such-story-here', '/stories/NOT_VALID']) {
      const response = await fetch(`${suite.service.url}${path}`);
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toContain('Not found');
    }
  });

  it('has JSON-LD that parses, lists the latest updates and escapes "<"', async () => {
    const story = newStory('jsonld');
    await putMeta(story, { title: 'Title with </script><script>alert(1)</script>', summary: 'Summary', status: 'ended', coverageStartTime: '2022-02-15T06:00:00Z', coverageEndTime: '2022-02-15T23:00:00Z' });
    const ids: string[] = [];
    for (let i = 0; i < 103; i++) ids.push((await append(story, statement(`Update number ${i} <b>bold</b>`))).id);
    const fixed = await append(story, { kind: 'correction', corrects: ids.at(-1), text: 'Update number 102, corrected', note: 'n' });

    const html = await (await fetch(`${suite.service.url}/stories/${story}`)).text();
    const block = /<script type="application\/ld\+json">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(block).not.toContain('<');
    expect(block).toContain('\\u003c/script\\u003e');
    const ld = jsonLdOf(html);
    expect(ld['@context']).toBe('https://schema.org');
    expect(ld['@type']).toBe('LiveBlogPosting');
    expect(ld.headline).toBe('Title with </script><script>alert(1)</script>');
    expect(ld.description).toBe('Summary');
    expect(ld.coverageStartTime).toBe('2022-02-15T06:00:00Z');
    expect(ld.coverageEndTime).toBe('2022-02-15T23:00:00Z');
    expect(ld.liveBlogUpdate).toHaveLength(100);
    expect(ld.liveBlogUpdate.map((u: any) => u.url.split('#u-')[1])).toEqual(ids.slice(-100).reverse());
    expect(ld.liveBlogUpdate[0]).toMatchObject({ '@type': 'BlogPosting', articleBody: 'Update number 102, corrected', dateModified: fixed.publishedAt });
    expect(ld.liveBlogUpdate[1]).toMatchObject({ articleBody: 'Update number 101 <b>bold</b>' });
    expect(ld.liveBlogUpdate[1].dateModified).toBeUndefined();
    for (const item of ld.liveBlogUpdate) expect(Date.parse(item.datePublished)).not.toBeNaN();
  });
});

describe('a long story', () => {
  it('pages by 200 top-level updates with an "older updates" link, and ?all=1 redirects to the first page', async () => {
    const story = newStory('long');
    await putMeta(story, { title: 'A long day', status: 'live' });
    const ids: string[] = [];
    for (let i = 0; i < 205; i++) ids.push((await append(story, statement(`Item ${i}`))).id);
    const reaction = (await append(story, { kind: 'reaction', occurredAt: '2022-02-15T12:35:00+02:00', text: 'A late reply to item 2.', inReplyTo: ids[2] })).id;
    const articleIds = (html: string): string[] => [...html.matchAll(/<article class="update[^"]*" id="u-([^"]+)"/g)].map((m) => m[1]!);

    const page = await (await fetch(`${suite.service.url}/stories/${story}`)).text();
    expect(articleIds(page)).toEqual(ids.slice(-200).reverse());
    const older = ids.at(-200)!;
    expect(page).toContain(`<a rel="next" href="?before=${older}">Older updates</a>`);
    expect(page).not.toContain('data-before=');

    const second = await fetch(`${suite.service.url}/stories/${story}?before=${older}`);
    expect(second.status).toBe(200);
    const secondHtml = await second.text();
    // The five oldest, with the reaction under the update it replies to; no older link; a link back; not live.
    expect(articleIds(secondHtml)).toEqual([ids[4], ids[3], ids[2], reaction, ids[1], ids[0]]);
    expect(secondHtml).not.toContain('Older updates');
    expect(secondHtml).toContain('>Newest updates</a>');
    expect(secondHtml).toContain(`data-before="${older}"`);
    expect(secondHtml).toContain(`data-last-id="${reaction}"`);

    const all = await fetch(`${suite.service.url}/stories/${story}?all=1`, { redirect: 'manual' });
    expect(all.status).toBe(301);
    expect(new URL(all.headers.get('location')!, `${suite.service.url}/stories/${story}?all=1`).href).toBe(`${suite.service.url}/stories/${story}`);

    const bad = await fetch(`${suite.service.url}/stories/${story}?before=nope`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^text\/html/);
  });
});

describe('the live blog page with JavaScript', () => {
  it('shows a POST on the open page within 2 s, without a reload', async () => {
    const story = newStory('live');
    await append(story, statement('Already there.'));
    const page = await openLive(story);
    const trouble = watchPage(page);
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));

    const started = Date.now();
    const created = await append(story, statement('Just in: a new statement.', { source: { name: 'Jens Stoltenberg', org: 'NATO' } }));
    await page.waitForSelector(`#u-${created.id}`, { timeout: 2_000 });
    expect(Date.now() - started).toBeLessThan(2_000);

    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    expect((await shownIds(page))[0]).toBe(created.id);
    await expect(page.locator(`#u-${created.id} .update-text`).textContent()).resolves.toBe('Just in: a new statement.');
    // Times are in the reader's words: relative for the publication, local for what was said.
    await expect(page.locator(`#u-${created.id} .permalink time`).textContent()).resolves.toBe('now');
    // 10:00 in Moscow (+03:00) is 16:00 for this reader in Tokyo, written the en-GB way.
    await expect(page.locator(`#u-${created.id} .said time`).textContent()).resolves.toBe('15 Feb 2022, 16:00');
    // Announced to screen readers through the polite live region (batched, so it lands within a second).
    await page.waitForFunction(() => document.getElementById('announcer')?.textContent?.includes('Just in: a new statement.'));
    expect(trouble).toEqual({ dialogs: [], consoleErrors: [], pageErrors: [] });
    await page.close();
  });

  it('nests a live reaction under the update it replies to', async () => {
    const story = newStory('reaction');
    const target = await append(story, statement('The original statement.'));
    const page = await openLive(story);
    const reaction = await append(story, { kind: 'reaction', occurredAt: '2022-02-15T12:00:00Z', text: 'A reaction.', inReplyTo: target.id });
    await page.waitForSelector(`#u-${target.id} > .reactions > #u-${reaction.id}`);
    await page.close();
  });

  it('changes a corrected update in place and shows the mark and the note', async () => {
    const story = newStory('correct');
    const target = await append(story, statement('Troops will leave on Tusday.', { key: true }));
    const page = await openLive(story);
    const article = page.locator(`#u-${target.id}`);
    await expect(article.locator('.update-text').textContent()).resolves.toBe('Troops will leave on Tusday.');

    await append(story, { kind: 'correction', corrects: target.id, text: 'Troops will leave on Tuesday.', note: 'Corrects a typo in "Tuesday".' });
    await page.waitForFunction((id) => document.querySelector(`#u-${id} .update-text`)?.textContent === 'Troops will leave on Tuesday.', target.id);
    await expect(article.locator('.corrected-mark').textContent()).resolves.toBe('Corrected');
    await expect(article.locator('.correction-note').textContent()).resolves.toBe('Corrects a typo in "Tuesday".');
    await expect(article.locator('.correction-history summary').textContent()).resolves.toBe('Correction history (1)');
    // Same element, same place: corrected in place, not re-added.
    expect((await shownIds(page)).filter((id) => id === target.id)).toHaveLength(1);
    await expect(page.locator(`.key-event-list li[data-id="${target.id}"]`).textContent()).resolves.toContain('Tuesday');

    await append(story, { kind: 'correction', corrects: target.id, retract: true, note: 'The departure was not confirmed.' });
    await article.locator('.withdrawn-text').waitFor();
    await expect(article.locator('.corrected-mark').textContent()).resolves.toBe('Withdrawn');
    expect(await article.locator('.correction-history li').count()).toBe(3);
    await page.locator(`.key-event-list li[data-id="${target.id}"]`).waitFor({ state: 'detached' });
    await page.close();
  });

  it('gives a scrolled-down reader a "new updates" button instead of moving the page', async () => {
    const story = newStory('scrolled');
    for (let i = 0; i < 25; i++) await append(story, statement(`Earlier update ${i}. ${'Some words of suite.context. '.repeat(8)}`));
    const page = await openLive(story);
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.waitForFunction(() => window.scrollY > 1000);
    const scrollY = await page.evaluate(() => window.scrollY);

    const first = await append(story, statement('Fresh while you read, 1.'));
    const second = await append(story, statement('Fresh while you read, 2.'));
    await page.waitForFunction(() => document.querySelector('#new-updates:not([hidden])')?.textContent === '2 new updates');
    expect(await page.evaluate(() => window.scrollY)).toBe(scrollY);
    expect(await page.locator(`#u-${first.id}`).count()).toBe(0);

    await page.click('#new-updates');
    await page.waitForSelector(`#u-${second.id}`);
    expect((await shownIds(page)).slice(0, 2)).toEqual([second.id, first.id]);
    expect(await page.locator('#new-updates').isHidden()).toBe(true);
    // The reader is taken to the newest update, which has the focus.
    await page.waitForFunction((id) => document.activeElement?.id === `u-${id}`, second.id);
    expect(await page.evaluate(() => window.scrollY)).toBeLessThan(scrollY);
    await page.close();
  });

  it('shows newsroom text as text: a statement of HTML runs nothing, rendered by the server or live', async () => {
    const story = newStory('xss');
    const payload = '<img src=x onerror=alert(1)>';
    await putMeta(story, { title: '<script>alert("title")</script>', summary: '<svg onload=alert(2)>', status: 'live' });
    const stored = await append(story, statement(payload, { key: true, source: { name: '<b onmouseover=alert(3)>Name</b>', url: 'https://example.com/"><script>alert(4)</script>' } }));

    const page = await suite.context.newPage();
    const trouble = watchPage(page);
    await page.goto(`${suite.service.url}/stories/${story}`);
    await page.waitForSelector('#status-badge[data-status="live"]');
    await expect(page.locator(`#u-${stored.id} .update-text`).textContent()).resolves.toBe(payload);
    await expect(page.locator('h1').textContent()).resolves.toBe('<script>alert("title")</script>');

    const live = await append(story, statement(payload, { source: { name: '<img src=y onerror=alert(5)>' } }));
    await page.waitForSelector(`#u-${live.id}`);
    await expect(page.locator(`#u-${live.id} .update-text`).textContent()).resolves.toBe(payload);
    await expect(page.locator(`#u-${live.id} .source-name`).textContent()).resolves.toBe('<img src=y onerror=alert(5)>');
    await append(story, { kind: 'correction', corrects: live.id, text: `${payload} again`, note: '<img src=z onerror=alert(6)>' });
    await page.waitForFunction((id) => document.querySelector(`#u-${id} .correction-note`)?.textContent === '<img src=z onerror=alert(6)>', live.id);

    expect(await page.locator('main img, main svg, main script, main b').count()).toBe(0);
    expect(trouble).toEqual({ dialogs: [], consoleErrors: [], pageErrors: [] });
    await page.close();
  });
});

describe('built files', () => {
  it('serves the bundles with their types, and the partner files with CORP cross-origin', async () => {
    for (const [path, type] of [
      ['/assets/blog.js', 'text/javascript'],
      ['/assets/desk.js', 'text/javascript'],
      ['/assets/blog.css', 'text/css'],
      ['/embed.js', 'text/javascript'],
      ['/client.js', 'text/javascript'],
    ] as const) {
      const response = await fetch(`${suite.service.url}${path}`, { headers: { origin: 'https://partner.example' } });
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toContain(type);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const partner = path === '/embed.js' || path === '/client.js';
      expect(response.headers.get('cross-origin-resource-policy')).toBe(partner ? 'cross-origin' : 'same-origin');
      if (partner) expect(response.headers.get('access-control-allow-origin')).toBe('*');
      const etag = response.headers.get('etag')!;
      expect((await fetch(`${suite.service.url}${path}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    }
    for (const path of ['/assets/nope.js', '/assets/..%2F..%2Fpackage.json', '/assets/../config.js', '/assets/sizes.json']) {
      expect((await fetch(`${suite.service.url}${path}`)).status, path).toBe(404);
    }
  });
});
