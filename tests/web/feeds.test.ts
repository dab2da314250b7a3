import { gunzipSync } from 'node:zlib';
import { parseAtomFeed, parseJsonFeed } from 'feedsmith';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { rawGet } from '../support/raw-get.js';
import { deletePrefix, post, publisherKey, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('feeds');
const publicUrl = 'https://live.example.com/news';
let service: RunningService;
let counter = 0;
const newStory = (name: string): string => `${name}-${++counter}-${Date.now().toString(36)}`;

beforeAll(async () => {
  service = await startTestService(prefix, { PUBLIC_URL: publicUrl, CDN_MAX_AGE_SECONDS: '4', CDN_STALE_SECONDS: '20' });
});

afterAll(async () => {
  await service?.stop();
  await deletePrefix(prefix);
});

async function append(story: string, body: Record<string, unknown>): Promise<{ id: string; publishedAt: string }> {
  const answer = await post(service.url, story, body);
  if (answer.status !== 201) throw new Error(`POST answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function putMeta(story: string, meta: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${service.url}/v1/stories/${story}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}` },
    body: JSON.stringify(meta),
  });
  expect(response.status).toBe(200);
}

/** A story with a statement, a sourced reaction, a corrected statement and a withdrawn one. */
async function seededStory(): Promise<{ story: string; ids: Record<string, string>; corrected: { id: string; publishedAt: string } }> {
  const story = newStory('feed');
  await putMeta(story, { title: 'Election night & results', summary: 'Counting <live>', status: 'live' });
  const first = await append(story, statement('Polls have closed.'));
  const reaction = await append(story, { kind: 'reaction', occurredAt: '2022-02-15T10:01:00+03:00', text: 'Turnout looks high', inReplyTo: first.id, source: { name: 'Ana Ruiz', role: 'analyst' } });
  const typo = await append(story, statement('Candidate A leads by 5 %.'));
  const wrong = await append(story, statement('A recount was ordered <b>tonight</b>.'));
  const corrected = await append(story, { kind: 'correction', corrects: typo.id, text: 'Candidate A leads by 3 %.', note: 'The lead was 3 points, not 5.' });
  await append(story, { kind: 'correction', corrects: wrong.id, retract: true, note: 'No recount was ordered.' });
  return { story, ids: { first: first.id, reaction: reaction.id, typo: typo.id, wrong: wrong.id }, corrected };
}

describe('GET /stories/:story/feed.atom', () => {
  it('parses as Atom with the newest updates first, corrections applied and withdrawals shown', async () => {
    const { story, ids, corrected } = await seededStory();
    const response = await fetch(`${service.url}/stories/${story}/feed.atom`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    const feed = parseAtomFeed(await response.text());
    const pageUrl = `${publicUrl}/stories/${story}`;
    expect(feed.id).toBe(pageUrl);
    expect(feed.title?.value).toBe('Election night & results');
    expect(feed.subtitle?.value).toBe('Counting <live>');
    expect(feed.links).toEqual(expect.arrayContaining([expect.objectContaining({ rel: 'self', href: `${pageUrl}/feed.atom` })]));
    const entries = feed.entries ?? [];
    expect(entries.map((e) => e.id)).toEqual([ids.wrong, ids.typo, ids.reaction, ids.first].map((id) => `${pageUrl}#u-${id}`));

    const [withdrawn, fixed, reaction, first] = entries;
    expect(withdrawn!.title?.value).toBe('Withdrawn');
    expect(withdrawn!.categories).toEqual([{ term: 'withdrawn', label: 'Withdrawn' }]);
    expect(withdrawn!.content?.value).toContain('This update was withdrawn.');
    expect(withdrawn!.content?.value).toContain('No recount was ordered.');
    expect(withdrawn!.content?.value).not.toContain('recount was ordered <b>');

    expect(fixed!.content?.value).toContain('Candidate A leads by 3 %.');
    expect(fixed!.content?.value).not.toContain('5 %');
    expect(fixed!.content?.value).toContain('The lead was 3 points, not 5.');
    // A corrected entry's `updated` moves to the correction; `published` stays.
    expect(fixed!.updated).toBe(corrected.publishedAt);
    expect(fixed!.published).not.toBe(corrected.publishedAt);

    expect(reaction!.authors).toEqual([{ name: 'Ana Ruiz' }]);
    expect(reaction!.title?.value).toBe('Ana Ruiz: Turnout looks high');
    expect(first!.updated).toBe(first!.published);
    // The feed changed last with the retraction, the story's newest entry.
    expect(feed.updated).toBe(withdrawn!.updated);
    expect(fixed!.categories).toEqual([{ term: 'corrected', label: 'Corrected' }]);
  });

  it('carries the newest 50 updates', async () => {
    const story = newStory('many');
    const ids: string[] = [];
    for (let i = 0; i < 55; i++) ids.push((await append(story, statement(`Update ${i}`))).id);
    const feed = parseAtomFeed(await (await fetch(`${service.url}/stories/${story}/feed.atom`)).text());
    expect(feed.entries?.map((e) => e.id?.split('#u-')[1])).toEqual(ids.slice(-50).reverse());
  });

  it('builds links from PUBLIC_URL, never from the Host header', async () => {
    const { story } = await seededStory();
    const answer = await rawGet(`${service.url}/stories/${story}/feed.atom`, { host: 'evil.example' });
    expect(answer.status).toBe(200);
    const text = answer.body.toString();
    expect(text).not.toContain('evil.example');
    expect(text).toContain(`${publicUrl}/stories/${story}`);
  });

  it('answers 404 in the error shape for a story that does not exist, and 400 for a bad id', async () => {
    const missing = await fetch(`${service.url}/stories/${newStory('none')}/feed.atom`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('not_found');
    const bad = await fetch(`${service.url}/stories/Bad_Id/feed.json`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('invalid_story_id');
  });
});

describe('GET /stories/:story/feed.json', () => {
  it('parses as JSON Feed 1.1 with corrections applied and withdrawals shown', async () => {
    const { story, ids, corrected } = await seededStory();
    const response = await fetch(`${service.url}/stories/${story}/feed.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/feed+json; charset=utf-8');
    const raw = await response.json();
    expect(raw.version).toBe('https://jsonfeed.org/version/1.1');
    const feed = parseJsonFeed(raw);
    const pageUrl = `${publicUrl}/stories/${story}`;
    expect(feed.title).toBe('Election night & results');
    expect(feed.home_page_url).toBe(pageUrl);
    expect(feed.feed_url).toBe(`${pageUrl}/feed.json`);
    const items = feed.items ?? [];
    expect(items.map((i) => i.id)).toEqual([ids.wrong, ids.typo, ids.reaction, ids.first].map((id) => `${pageUrl}#u-${id}`));
    const [withdrawn, fixed, reaction] = items;
    expect(withdrawn!.title).toBe('Withdrawn');
    expect(withdrawn!.content_text).toContain('No recount was ordered.');
    expect(withdrawn!.content_text).not.toContain('tonight');
    expect(fixed!.content_text).toContain('Candidate A leads by 3 %.');
    expect(fixed!.content_text).toContain('The lead was 3 points, not 5.');
    expect(fixed!.date_modified).toBe(corrected.publishedAt);
    expect(reaction!.authors).toEqual([{ name: 'Ana Ruiz' }]);
    // The extension object (which the parser leaves out) says what the text does not.
    expect(raw.items[0]._stoppress).toMatchObject({ id: ids.wrong, kind: 'statement', withdrawn: true });
    expect(raw.items[1]._stoppress.corrections).toEqual([expect.objectContaining({ id: corrected.id, note: 'The lead was 3 points, not 5.' })]);
  });
});

describe('feed caching', () => {
  it('answers 304 for the current ETag, with the page\'s Cache-Control, and a new ETag after a change', async () => {
    const { story } = await seededStory();
    const page = await fetch(`${service.url}/stories/${story}`);
    for (const extension of ['atom', 'json']) {
      const url = `${service.url}/stories/${story}/feed.${extension}`;
      const first = await fetch(url);
      const etag = first.headers.get('etag')!;
      expect(etag).toMatch(/^"\d+-\d+\.\d+\./);
      expect(first.headers.get('cache-control')).toBe(page.headers.get('cache-control'));
      expect(first.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=4, stale-while-revalidate=20');
      const again = await fetch(url, { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');
    }
    const before = (await fetch(`${service.url}/stories/${story}/feed.atom`)).headers.get('etag');
    await append(story, statement('Later.'));
    const after = await fetch(`${service.url}/stories/${story}/feed.atom`, { headers: { 'if-none-match': before! } });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(before);
    expect(parseAtomFeed(await after.text()).entries?.[0]?.content?.value).toContain('Later.');
  });

  it('compresses like the page and builds each feed once per change', async () => {
    const { story } = await seededStory();
    const readsBefore = service.readCache.snapshotReads;
    const bodies = await Promise.all(
      [1, 2, 3].map(() => rawGet(`${service.url}/stories/${story}/feed.atom`, { 'accept-encoding': 'gzip' })),
    );
    await rawGet(`${service.url}/stories/${story}/feed.json`, {});
    await rawGet(`${service.url}/stories/${story}`, {});
    expect(service.readCache.snapshotReads - readsBefore).toBe(1);
    for (const answer of bodies) {
      expect(answer.headers['content-encoding']).toBe('gzip');
      expect(answer.headers.vary).toContain('Accept-Encoding');
      expect(parseAtomFeed(gunzipSync(answer.body).toString()).entries).toHaveLength(4);
    }
  });
});
