import { describe, expect, it } from 'vitest';
import { post, publisherKey, statement, uniquePrefix } from '../support/test-service.js';
import { newStory, openDesk, signInToDesk, useBrowserSuite } from './browser-support.js';

const prefix = uniquePrefix('web-desk');
const suite = useBrowserSuite(prefix, { viewport: { width: 1400, height: 1000 } });

async function createStory(story: string, title: string): Promise<void> {
  const response = await fetch(`${suite.service.url}/v1/stories/${story}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}` },
    body: JSON.stringify({ title, status: 'live' }),
  });
  if (response.status !== 200) throw new Error(`PUT answered ${response.status}`);
}

async function storedUpdates(story: string): Promise<{ id: string; kind: string; text?: string; corrects?: string; note?: string }[]> {
  return ((await (await fetch(`${suite.service.url}/v1/stories/${story}/updates?limit=1000`)).json()) as { updates: [] }).updates;
}

describe('the newsroom desk', () => {
  it('ends a story\'s coverage and reopens it, keeping its metadata', async () => {
    const story = newStory('coverage');
    const put = await fetch(`${suite.service.url}/v1/stories/${story}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}` },
      body: JSON.stringify({ title: 'Summit day', summary: 'Leaders meet.', status: 'live', coverageStartTime: '2022-02-15T08:00:00+01:00' }),
    });
    expect(put.status).toBe(200);
    const page = await openDesk(suite, story);
    const view = async () => (await (await fetch(`${suite.service.url}/v1/stories/${story}`)).json()) as Record<string, unknown>;

    await page.click('#coverage-toggle:has-text("End coverage")');
    // Ending asks first: cancelling changes nothing.
    await page.waitForSelector('#coverage-confirm:not([hidden])');
    await page.click('#coverage-confirm-no');
    expect(await page.isHidden('#coverage-confirm')).toBe(true);
    expect((await view()).status).toBe('live');
    await page.click('#coverage-toggle:has-text("End coverage")');
    await page.click('#coverage-confirm-yes');
    await page.waitForSelector('#coverage-toggle:has-text("Reopen coverage")');
    const ended = await view();
    expect(ended).toMatchObject({ title: 'Summit day', summary: 'Leaders meet.', status: 'ended', coverageStartTime: '2022-02-15T08:00:00+01:00' });
    expect(Date.parse(String(ended.coverageEndTime))).toBeGreaterThan(Date.parse('2022-02-15T08:00:00+01:00'));

    await page.click('#coverage-toggle:has-text("Reopen coverage")');
    await page.waitForSelector('#coverage-toggle:has-text("End coverage")');
    const reopened = await view();
    expect(reopened).toMatchObject({ title: 'Summit day', summary: 'Leaders meet.', status: 'live' });
    expect(reopened.coverageEndTime).toBeUndefined();
    await page.close();
  });

  it('keeps the publisher key in sessionStorage only, and refuses a wrong one next to the field', async () => {
    const page = await suite.context.newPage();
    await page.goto(`${suite.service.url}/desk`);
    await page.fill('#key-input', 'not-a-publisher-key');
    await page.click('#key-form button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('key-input-error')?.textContent === 'This key is not a publisher key of this service.');
    expect(await page.getAttribute('#key-input', 'aria-invalid')).toBe('true');

    await page.fill('#key-input', publisherKey);
    await page.click('#key-form button[type="submit"]');
    await page.waitForSelector('#desk:not([hidden])');
    const storage = await page.evaluate(() => ({ session: sessionStorage.getItem('stoppress.publisherKey'), local: localStorage.length, cookie: document.cookie }));
    expect(storage).toEqual({ session: publisherKey, local: 0, cookie: '' });
    // A reload in the same tab keeps the desk open; "Forget key" closes it.
    await page.reload();
    await page.waitForSelector('#desk:not([hidden])');
    await page.click('#forget-key');
    await page.waitForSelector('#key-panel:not([hidden])');
    expect(await page.evaluate(() => sessionStorage.getItem('stoppress.publisherKey'))).toBeNull();
    await page.close();
  });

  it('publishes a statement and a reaction, and they show on the desk', async () => {
    const story = newStory('publish');
    await createStory(story, 'Desk publishing');
    const page = await openDesk(suite, story);

    await page.fill('#f-source-name', 'Jens Stoltenberg');
    await page.fill('#f-source-role', 'Secretary-General');
    await page.fill('#f-source-org', 'NATO');
    await page.fill('#f-text', 'No signs of de-escalation on the ground.');
    await page.check('#f-key');
    await page.click('#publish-button');
    await page.waitForFunction(() => document.getElementById('publish-form-ok')?.textContent === 'Published.');
    const [published] = await storedUpdates(story);
    expect(published).toMatchObject({ kind: 'statement', text: 'No signs of de-escalation on the ground.', key: true, source: { name: 'Jens Stoltenberg', role: 'Secretary-General', org: 'NATO' } });
    // occurredAt defaulted to now, with the browser's offset.
    expect(Math.abs(Date.parse((published as unknown as { occurredAt: string }).occurredAt) - Date.now())).toBeLessThan(120_000);
    await page.waitForSelector(`#desk-feed #u-${published!.id}`);
    expect(await page.inputValue('#f-text')).toBe('');

    // A reaction, via "Reply" on that update.
    await page.click(`#u-${published!.id} button[data-action="reply"]`);
    expect(await page.inputValue('#f-inReplyTo')).toBe(published!.id);
    await page.fill('#f-text', 'We will believe it when we see it.');
    await page.click('#publish-button');
    await page.waitForFunction(() => document.getElementById('publish-form-ok')?.textContent === 'Published.');
    const reaction = (await storedUpdates(story))[1]!;
    expect(reaction).toMatchObject({ kind: 'reaction', inReplyTo: published!.id });
    await page.waitForSelector(`#u-${published!.id} > .reactions > #u-${reaction.id}`);
    await page.close();
  });

  it('shows an API validation error next to the field: an empty text', async () => {
    const story = newStory('invalid');
    await createStory(story, 'Desk validation');
    const page = await openDesk(suite, story);
    await page.fill('#f-text', '');
    await page.click('#publish-button');
    await page.waitForFunction(() => (document.getElementById('f-text-error')?.textContent ?? '').length > 0);
    // The API's plain message, as it is.
    expect(await page.textContent('#f-text-error')).toBe("Write the update's text: it is empty");
    expect(await page.getAttribute('#f-text', 'aria-invalid')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-text');
    expect(await storedUpdates(story)).toEqual([]);

    // Fixing it clears the error.
    await page.fill('#f-text', 'Now with text.');
    await page.click('#publish-button');
    await page.waitForFunction(() => document.getElementById('publish-form-ok')?.textContent === 'Published.');
    expect(await page.textContent('#f-text-error')).toBe('');
    await page.close();
  });

  it('corrects an update: the form is prefilled, asks for the note, and the correction shows', async () => {
    const story = newStory('correct');
    await createStory(story, 'Desk corrections');
    const target = await post(suite.service.url, story, statement('The talks end on 20 January.'));
    const page = await openDesk(suite, story);
    await page.click(`#u-${target.body.id} button[data-action="correct"]`);
    await page.waitForSelector('#correct-dialog[open]');
    expect(await page.inputValue('#c-text')).toBe('The talks end on 20 January.');

    // No note: the API's message shows next to the note field.
    await page.fill('#c-text', 'The talks end on 20 February.');
    await page.click('#correct-button');
    await page.waitForFunction(() => (document.getElementById('c-note-error')?.textContent ?? '').length > 0);
    await page.fill('#c-note', 'An earlier version gave the wrong month.');
    await page.click('#correct-button');
    await page.waitForSelector('#correct-dialog:not([open])', { state: 'attached' });

    await page.waitForFunction((id) => document.querySelector(`#desk-feed #u-${id} .update-text`)?.textContent === 'The talks end on 20 February.', target.body.id);
    expect(await page.textContent(`#u-${target.body.id} .correction-note`)).toBe('An earlier version gave the wrong month.');
    const correction = (await storedUpdates(story)).find((u) => u.kind === 'correction');
    expect(correction).toMatchObject({ corrects: target.body.id, text: 'The talks end on 20 February.', note: 'An earlier version gave the wrong month.' });
    await page.close();
  });

  it('retries a publish that met a network error with the same Idempotency-Key, so it is stored once', async () => {
    const story = newStory('retry');
    await createStory(story, 'Desk retries');
    const page = await openDesk(suite, story);
    const keys: string[] = [];
    let failNext = true;
    await page.route(`**/v1/stories/${story}/updates`, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      if (!failNext) return route.continue();
      failNext = false;
      // The request reaches the service and is stored; the answer is lost on the way back.
      await route.fetch();
      await route.abort('connectionreset');
    });

    await page.fill('#f-text', 'Published once, whatever the network does.');
    await page.click('#publish-button');
    await page.waitForFunction(() => /network error/i.test(document.getElementById('publish-form-error')?.textContent ?? ''));
    await page.click('#publish-button');
    await page.waitForFunction(() => /already been published/.test(document.getElementById('publish-form-ok')?.textContent ?? ''));

    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect((await storedUpdates(story)).map((u) => u.text)).toEqual(['Published once, whatever the network does.']);

    // After a success the next submission gets a new key.
    await page.fill('#f-text', 'A second, different update.');
    await page.click('#publish-button');
    await page.waitForFunction(() => document.getElementById('publish-form-ok')?.textContent === 'Published.');
    expect(keys).toHaveLength(3);
    expect(keys[2]).not.toBe(keys[0]);
    await page.close();
  });

  it('follows many stories on one socket, with unread counts for the ones not on screen', async () => {
    const [shown, other, third] = [newStory('shown'), newStory('other'), newStory('third')];
    for (const story of [shown, other, third]) await createStory(story, `Story ${story}`);
    const page = await suite.context.newPage();
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await signInToDesk(suite, publisherKey, page);
    await page.click(`button[data-story="${shown}"]`);
    await page.waitForSelector('#status-badge[data-status="live"]');

    await post(suite.service.url, other, statement('one'));
    await post(suite.service.url, other, statement('two'));
    await post(suite.service.url, third, statement('three'));
    const onScreen = await post(suite.service.url, shown, statement('on screen'));
    await page.waitForFunction((story) => document.querySelector(`button[data-story="${story}"] .unread`)?.firstChild?.textContent === '2', other);
    await page.waitForFunction((story) => document.querySelector(`button[data-story="${story}"] .unread`)?.firstChild?.textContent === '1', third);
    await page.waitForSelector(`#desk-feed #u-${onScreen.body.id}`);
    expect(await page.locator(`button[data-story="${shown}"] .unread`).count()).toBe(0);
    expect(await page.title()).toBe('(3) Stoppress · Desk');

    // Opening a story clears its count and shows what arrived.
    await page.click(`button[data-story="${other}"]`);
    await page.waitForFunction(() => document.querySelectorAll('#desk-feed article.update').length === 2);
    expect(await page.locator(`button[data-story="${other}"] .unread`).count()).toBe(0);
    expect(sockets).toHaveLength(1);
    await page.close();
  });

  it('creates a story from the desk and shows field errors for a bad id', async () => {
    const page = await signInToDesk(suite);
    await page.click('#new-story summary');
    await page.fill('#story-id', 'Not A Valid Id');
    await page.fill('#story-title', 'A new story');
    await page.click('#story-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('story-id-error')?.textContent ?? '').length > 0);

    const story = newStory('created');
    await page.fill('#story-id', story);
    await page.click('#story-form button[type="submit"]');
    await page.waitForSelector(`button[data-story="${story}"][aria-current="true"]`);
    expect(await page.textContent('#story-heading')).toBe('A new story');
    const view = await (await fetch(`${suite.service.url}/v1/stories/${story}`)).json();
    expect(view).toMatchObject({ story, title: 'A new story', status: 'live' });
    await page.close();
  });

  it('refuses to create over an existing story, shows it, and opens it', async () => {
    const story = newStory('exists');
    await createStory(story, 'Already here');
    const page = await signInToDesk(suite);
    await page.click('#new-story summary');
    await page.fill('#story-id', story);
    await page.fill('#story-title', 'Overwrite attempt');
    await page.click('#story-form button[type="submit"]');
    await page.waitForSelector(`#story-form-error button[data-open-story="${story}"]`);
    expect(await page.textContent('#story-form-error')).toContain('already exists: “Already here” (live). Nothing was changed.');
    expect((await (await fetch(`${suite.service.url}/v1/stories/${story}`)).json()).title).toBe('Already here');
    await page.click(`#story-form-error button[data-open-story="${story}"]`);
    await page.waitForFunction(() => document.getElementById('story-heading')?.textContent === 'Already here');
    await page.close();
  });

  it('edits a story with PATCH and If-Match, and says "reload" when someone else changed it', async () => {
    const story = newStory('edit');
    await createStory(story, 'First title');
    const page = await openDesk(suite, story);
    await page.waitForSelector('#edit-story-toggle:not([hidden])');
    await page.click('#edit-story-toggle');
    expect(await page.inputValue('#e-title')).toBe('First title');
    await page.fill('#e-title', 'Second title');
    await page.fill('#e-summary', 'Now with a summary');
    await page.click('#edit-save');
    await page.waitForFunction(() => document.getElementById('story-heading')?.textContent === 'Second title');
    const view = async () => (await (await fetch(`${suite.service.url}/v1/stories/${story}`)).json()) as Record<string, unknown>;
    expect(await view()).toMatchObject({ title: 'Second title', summary: 'Now with a summary', status: 'live' });

    // A new update does not make the desk's copy stale; someone else's metadata change does.
    await post(suite.service.url, story, statement('An update meanwhile'));
    await page.click('#edit-story-toggle');
    await page.fill('#e-summary', '');
    await page.click('#edit-save');
    await page.waitForSelector('#edit-form', { state: 'hidden' });
    expect((await view()).summary).toBeUndefined();

    const other = await fetch(`${suite.service.url}/v1/stories/${story}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}` },
      body: JSON.stringify({ title: 'Changed elsewhere' }),
    });
    expect(other.status).toBe(200);
    await page.click('#edit-story-toggle');
    await page.fill('#e-title', 'My stale change');
    await page.click('#edit-save');
    await page.waitForFunction(() => (document.getElementById('edit-form-error')?.textContent ?? '').startsWith('Someone else changed this story'));
    expect((await view()).title).toBe('Changed elsewhere');
    await page.close();
  });
});
