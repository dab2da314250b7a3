import { describe, expect, it } from 'vitest';
import { publisherKey, uniquePrefix } from '../support/test-service.js';
import { newStory, signInToDesk, useBrowserSuite } from './browser-support.js';

const prefix = uniquePrefix('web-desk-audit');
const annaKey = 'anna-desk-key-123';
const suite = useBrowserSuite(prefix, { viewport: { width: 1400, height: 1000 } }, { PUBLISHERS: `anna:${annaKey}` });

async function api(method: string, path: string, key: string, body: unknown): Promise<any> {
  const response = await fetch(`${suite.service.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  return response.json();
}

describe('the desk audit lines', () => {
  it('shows who published and who corrected each update, to publishers only', async () => {
    const story = newStory('audit');
    await api('POST', '/v1/stories', annaKey, { story, title: 'Audited' });
    const first = await api('POST', `/v1/stories/${story}/updates`, annaKey, { kind: 'statement', occurredAt: '2022-02-15T10:00:00Z', text: 'By Anna' });
    await api('POST', `/v1/stories/${story}/updates`, publisherKey, { kind: 'correction', corrects: first.id, text: 'By Anna, fixed', note: 'Typo' });

    const page = await signInToDesk(suite, annaKey);
    await page.click(`button[data-story="${story}"]`);
    const line = `#u-${first.id} .audit-line`;
    await page.waitForSelector(line);
    expect(await page.textContent(line)).toBe('published by anna · corrected by an anonymous key');

    // Publishing from the desk adds its own line.
    await page.fill('#f-text', 'From the desk');
    await page.click('#publish-button');
    await page.waitForFunction(() => [...document.querySelectorAll('.audit-line')].length === 2);
    expect(await page.locator('.audit-line').allTextContents()).toContain('published by anna');

    const reader = await suite.context.newPage();
    await reader.goto(`${suite.service.url}/stories/${story}`);
    expect(await reader.locator('.audit-line').count()).toBe(0);
    expect(await reader.content()).not.toContain('anna');
    await Promise.all([page.close(), reader.close()]);
  });
});
