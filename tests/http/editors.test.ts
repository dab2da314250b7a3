import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditPage } from '../../src/protocol/audit.js';
import type { RunningService } from '../../src/service.js';
import { deletePrefix, readAnswer, type HttpAnswer, publisherKey, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('http-editors');
const annaKey = 'anna-key-0123456789';
const botKey = 'desk:bot:key-with-colons';
let service: RunningService;
let base: string;

beforeAll(async () => {
  service = await startTestService(prefix, { PUBLISHERS: `anna:${annaKey}, desk-bot:${botKey}` });
  base = service.url;
});
afterAll(async () => {
  await service?.stop();
  await deletePrefix(prefix);
});

let storySeq = 0;
const newStory = (): string => `editors-${++storySeq}-${randomUUID().slice(0, 8)}`;

async function call(method: string, path: string, options: { key?: string | null; body?: unknown; headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.key === undefined ? publisherKey : options.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  return readAnswer(await fetch(`${base}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) }));
}

async function auditOf(story: string, key = publisherKey): Promise<any[]> {
  const answer = await call('GET', `/v1/stories/${story}/audit`, { key });
  expect(answer.status).toBe(200);
  return AuditPage.parse(answer.body).records;
}

describe('named publishers and the audit trail', () => {
  it('records who set or cleared an update\'s flags after publishing, and nothing for a refused flag change', async () => {
    const story = newStory();
    const first = await call('POST', `/v1/stories/${story}/updates`, { key: annaKey, body: statement('Key moment') });
    expect((await call('POST', `/v1/stories/${story}/updates/${first.body.id}/flags`, { key: annaKey, body: { key: true, pinned: true } })).status).toBe(200);
    expect((await call('POST', `/v1/stories/${story}/updates/1-1/flags`, { key: annaKey, body: { key: true } })).status).toBe(422);
    const records = await auditOf(story);
    expect(records.map((r) => [r.publisher, r.action, r.target, r.flags])).toEqual([
      ['anna', 'publish', undefined, undefined],
      ['anna', 'flag', first.body.id, { key: true, pinned: true }],
    ]);
  });

  it('records who published, corrected, retracted and changed metadata, anonymous keys as null', async () => {
    const story = newStory();
    const created = await call('POST', '/v1/stories', { key: annaKey, body: { story, title: 'Budget day' } });
    expect(created.status).toBe(201);
    const first = await call('POST', `/v1/stories/${story}/updates`, { key: annaKey, body: statement('The minister stands up') });
    expect(first.status).toBe(201);
    const second = await call('POST', `/v1/stories/${story}/updates`, { key: botKey, body: statement('Markets open') });
    const correction = await call('POST', `/v1/stories/${story}/updates`, { key: botKey, body: { kind: 'correction', corrects: first.body.id, text: 'The chancellor stands up', note: 'Wrong title' } });
    const retraction = await call('POST', `/v1/stories/${story}/updates`, { body: { kind: 'correction', corrects: second.body.id, retract: true, note: 'Not confirmed' } });
    const edited = await call('PATCH', `/v1/stories/${story}`, { key: botKey, body: { summary: 'Live coverage' } });
    expect(edited.status).toBe(200);
    const replaced = await call('PUT', `/v1/stories/${story}`, { body: { title: 'Budget day 2022', status: 'ended' } });
    expect(replaced.status).toBe(200);

    const records = await auditOf(story);
    expect(records.map(({ publisher, action, update, target, fields }) => ({ publisher, action, update, target, fields }))).toEqual([
      { publisher: 'anna', action: 'create', update: undefined, target: undefined, fields: ['title', 'status'] },
      { publisher: 'anna', action: 'publish', update: first.body.id, target: undefined, fields: undefined },
      { publisher: 'desk-bot', action: 'publish', update: second.body.id, target: undefined, fields: undefined },
      { publisher: 'desk-bot', action: 'correct', update: correction.body.id, target: first.body.id, fields: undefined },
      { publisher: null, action: 'retract', update: retraction.body.id, target: second.body.id, fields: undefined },
      { publisher: 'desk-bot', action: 'edit', update: undefined, target: undefined, fields: ['summary'] },
      { publisher: null, action: 'replace', update: undefined, target: undefined, fields: ['title', 'status', 'summary'] },
    ]);
    expect(records.map((r) => r.version)).toEqual([1, undefined, undefined, undefined, undefined, 2, 3]);
    for (const record of records) expect(Date.parse(record.at)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('records an idempotent repeat once', async () => {
    const story = newStory();
    const headers = { 'idempotency-key': randomUUID() };
    const once = await call('POST', `/v1/stories/${story}/updates`, { key: annaKey, body: statement('Once'), headers });
    const again = await call('POST', `/v1/stories/${story}/updates`, { key: botKey, body: statement('Once'), headers });
    expect([once.status, again.status]).toEqual([201, 200]);
    expect(again.body.id).toBe(once.body.id);
    const records = await auditOf(story);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ publisher: 'anna', action: 'publish', update: once.body.id });
  });

  it('pages the audit trail with after and limit', async () => {
    const story = newStory();
    for (const text of ['a', 'b', 'c']) await call('POST', `/v1/stories/${story}/updates`, { key: annaKey, body: statement(text) });
    const page1 = await call('GET', `/v1/stories/${story}/audit?limit=2`);
    expect(page1.body.records).toHaveLength(2);
    const page2 = await call('GET', `/v1/stories/${story}/audit?limit=2&after=${page1.body.nextAfter}`);
    expect(page2.body.records).toHaveLength(1);
    expect(page2.body.records[0].id > page1.body.records[1].id).toBe(true);
    expect(page2.headers.get('cache-control')).toBe('private, no-store');
  });

  it('never serves the audit trail to readers', async () => {
    const story = newStory();
    await call('POST', '/v1/stories', { key: annaKey, body: { story, title: 'Quiet story' } });
    await call('POST', `/v1/stories/${story}/updates`, { key: annaKey, body: statement('Something') });
    expect((await call('GET', `/v1/stories/${story}/audit`, { key: null })).status).toBe(401);
    expect((await call('GET', `/v1/stories/${story}/audit`, { key: 'not-a-key-at-all' })).status).toBe(401);
    for (const path of [`/v1/stories/${story}`, `/v1/stories/${story}/updates`, '/v1/stories', `/stories/${story}`, `/stories/${story}?all=1`]) {
      const answer = await call('GET', path, { key: null });
      expect(answer.status, path).toBeLessThan(400);
      expect(answer.text, path).not.toMatch(/anna|"publisher"|"action"/);
    }
  });
});

describe('creating and editing stories', () => {
  it('creates with 201 and refuses an existing id with 409 story_exists carrying its metadata', async () => {
    const story = newStory();
    const created = await call('POST', '/v1/stories', { body: { story, title: 'Election night', summary: 'Results as they come' } });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/stories/${story}`);
    expect(created.body).toEqual({ story, title: 'Election night', summary: 'Results as they come', status: 'live' });
    await call('PATCH', `/v1/stories/${story}`, { body: { status: 'ended', coverageEndTime: '2022-02-15T23:00:00+00:00' } });

    const again = await call('POST', '/v1/stories', { body: { story, title: 'Overwrite attempt' } });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: 'story_exists',
      story: { story, title: 'Election night', summary: 'Results as they come', status: 'ended', coverageEndTime: '2022-02-15T23:00:00+00:00' },
    });
    const view = await call('GET', `/v1/stories/${story}`, { key: null });
    expect(view.body).toMatchObject({ title: 'Election night', status: 'ended' });
  });

  it('refuses to create a story that has updates but no metadata', async () => {
    const story = newStory();
    await call('POST', `/v1/stories/${story}/updates`, { body: statement('First') });
    const answer = await call('POST', '/v1/stories', { body: { story, title: 'Late title' } });
    expect(answer.status).toBe(409);
    expect(answer.body.error.story).toEqual({ story });
  });

  it('changes only the fields a PATCH names, and removes an optional field given null', async () => {
    const story = newStory();
    await call('POST', '/v1/stories', { body: { story, title: 'Storm', summary: 'Storm hits the coast', coverageStartTime: '2022-02-15T06:00:00Z' } });
    const patched = await call('PATCH', `/v1/stories/${story}`, { body: { title: 'Storm Eunice' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ story, title: 'Storm Eunice', summary: 'Storm hits the coast', status: 'live', coverageStartTime: '2022-02-15T06:00:00Z' });
    const cleared = await call('PATCH', `/v1/stories/${story}`, { body: { summary: null } });
    expect(cleared.body).toEqual({ story, title: 'Storm Eunice', status: 'live', coverageStartTime: '2022-02-15T06:00:00Z' });
    const view = await call('GET', `/v1/stories/${story}`, { key: null });
    expect(view.body).toMatchObject({ title: 'Storm Eunice', status: 'live', coverageStartTime: '2022-02-15T06:00:00Z' });
    expect(view.body.summary).toBeUndefined();
  });

  it('refuses a PATCH that removes a required field, names nothing, or leaves the coverage out of order', async () => {
    const story = newStory();
    await call('POST', '/v1/stories', { body: { story, title: 'Match', coverageStartTime: '2022-02-15T18:00:00Z' } });
    const noTitle = await call('PATCH', `/v1/stories/${story}`, { body: { title: null } });
    expect(noTitle.status).toBe(400);
    expect(noTitle.body.error.issues[0].path).toBe('title');
    expect((await call('PATCH', `/v1/stories/${story}`, { body: {} })).status).toBe(400);
    const early = await call('PATCH', `/v1/stories/${story}`, { body: { coverageEndTime: '2022-02-15T17:00:00Z' } });
    expect(early.status).toBe(400);
    expect(early.body.error).toMatchObject({ code: 'validation_failed', issues: [{ path: 'coverageEndTime' }] });
    expect((await call('PATCH', `/v1/stories/${newStory()}`, { body: { title: 'x' } })).status).toBe(404);
    expect((await auditOf(story)).map((r) => r.action)).toEqual(['create']);
  });

  it('answers 412 precondition_failed when the metadata changed since the If-Match ETag, but not for new updates alone', async () => {
    const story = newStory();
    await call('POST', '/v1/stories', { body: { story, title: 'Summit' } });
    const etag = (await call('GET', `/v1/stories/${story}`, { key: null })).headers.get('etag')!;
    expect(etag).toMatch(/^"/);
    await call('POST', `/v1/stories/${story}/updates`, { body: statement('Leaders arrive') });
    expect((await call('GET', `/v1/stories/${story}`, { key: null })).headers.get('etag')).not.toBe(etag);
    const afterUpdate = await call('PATCH', `/v1/stories/${story}`, { body: { summary: 'Day one' }, headers: { 'if-match': etag } });
    expect(afterUpdate.status).toBe(200);

    const stale = await call('PATCH', `/v1/stories/${story}`, { body: { title: 'Summit, day one' }, headers: { 'if-match': etag } });
    expect(stale.status).toBe(412);
    expect(stale.body.error).toMatchObject({ code: 'precondition_failed', story: { story, title: 'Summit', summary: 'Day one' } });

    const fresh = (await call('GET', `/v1/stories/${story}`, { key: null, headers: { 'accept-encoding': 'gzip' } })).headers.get('etag')!;
    expect((await call('PATCH', `/v1/stories/${story}`, { body: { title: 'Summit, day one' }, headers: { 'if-match': fresh } })).status).toBe(200);
    expect((await call('PATCH', `/v1/stories/${story}`, { body: { title: 'x' }, headers: { 'if-match': 'nonsense' } })).status).toBe(400);
    expect((await call('PATCH', `/v1/stories/${story}`, { body: { title: 'Summit, all days' }, headers: { 'if-match': '*' } })).status).toBe(200);
  });

  it('lets exactly one of concurrent PATCHes with the same If-Match win', async () => {
    const story = newStory();
    await call('POST', '/v1/stories', { body: { story, title: 'Race' } });
    const etag = (await call('GET', `/v1/stories/${story}`, { key: null })).headers.get('etag')!;
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => call('PATCH', `/v1/stories/${story}`, { key: i % 2 ? annaKey : botKey, body: { title: `Title ${i}` }, headers: { 'if-match': etag } })),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 412, 412, 412, 412, 412, 412, 412]);
    const winner = answers.find((a) => a.status === 200)!;
    const view = await call('GET', `/v1/stories/${story}`, { key: null });
    expect(view.body.title).toBe(winner.body.title);
    expect((await auditOf(story)).map((r) => r.action)).toEqual(['create', 'edit']);
  });

  it('applies concurrent PATCHes of different fields without If-Match, none lost', async () => {
    const story = newStory();
    await call('POST', '/v1/stories', { body: { story, title: 'Merge' } });
    const answers = await Promise.all([
      call('PATCH', `/v1/stories/${story}`, { body: { summary: 'S' } }),
      call('PATCH', `/v1/stories/${story}`, { body: { coverageStartTime: '2022-02-15T06:00:00Z' } }),
      call('PATCH', `/v1/stories/${story}`, { body: { status: 'ended' } }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const view = await call('GET', `/v1/stories/${story}`, { key: null });
    expect(view.body).toMatchObject({ title: 'Merge', summary: 'S', coverageStartTime: '2022-02-15T06:00:00Z', status: 'ended' });
  });
});

describe('the public byline', () => {
  it('stores an author byline and shows it on the page and in JSON-LD, escaped, apart from the audit name', async () => {
    const story = newStory();
    await call('POST', '/v1/stories', { key: annaKey, body: { story, title: 'Bylines' } });
    const author = { name: 'Maria <b>Ivanova</b>', url: 'https://news.example/staff/maria' };
    const posted = await call('POST', `/v1/stories/${story}/updates`, { key: annaKey, body: statement('Reporting from Kyiv', { author }) });
    expect(posted.status).toBe(201);
    expect(posted.body.author).toEqual(author);
    expect((await call('GET', `/v1/stories/${story}`, { key: null })).body.updates[0].author).toEqual(author);

    const page = await call('GET', `/stories/${story}`, { key: null });
    expect(page.text).toContain('<p class="byline">By <a class="byline-name" href="https://news.example/staff/maria" rel="author nofollow noopener noreferrer">Maria &lt;b&gt;Ivanova&lt;/b&gt;</a></p>');
    const jsonLd = JSON.parse(/<script type="application\/ld\+json">([\s\S]*?)<\/script>/.exec(page.text)![1]!);
    expect(jsonLd.liveBlogUpdate[0].author).toEqual({ '@type': 'Person', name: 'Maria <b>Ivanova</b>', url: 'https://news.example/staff/maria' });
    expect(page.text).not.toContain('anna');
  });

  it('refuses an author with unknown fields, an empty name or a non-http link', async () => {
    const story = newStory();
    for (const [author, path] of [
      [{ name: 'A', twitter: '@a' }, 'author'],
      [{ name: ' ' }, 'author.name'],
      [{ name: 'A', url: 'javascript:alert(1)' }, 'author.url'],
    ] as const) {
      const answer = await call('POST', `/v1/stories/${story}/updates`, { body: statement('x', { author }) });
      expect(answer.status).toBe(400);
      expect(answer.body.error.issues[0].path).toBe(path);
    }
  });
});

describe('validation messages an editor understands', () => {
  const t = '2022-02-15T12:00:00+03:00';
  it.each([
    ['an empty text', { kind: 'statement', occurredAt: t, text: '' }, 'text', "Write the update's text: it is empty"],
    ['no text', { kind: 'statement', occurredAt: t }, 'text', "Write the update's text: it is missing"],
    ['a time without offset', { kind: 'statement', occurredAt: '2022-02-15T12:00:00', text: 'x' }, 'occurredAt', 'Add the UTC offset, e.g. 2022-02-15T12:00:00+03:00'],
    ['a blank source name', { kind: 'statement', occurredAt: t, text: 'x', source: { name: '  ' } }, 'source.name', "The source's name is empty"],
    ['a text over the limit', { kind: 'statement', occurredAt: t, text: 'x'.repeat(10_001) }, 'text', "The update's text is 10001 characters; the limit is 10000"],
    ['an unknown kind', { kind: 'opinion', occurredAt: t, text: 'x' }, 'kind', 'Choose the kind of update: "statement", "reaction" or "correction"'],
    ['an empty correction note', { kind: 'correction', corrects: '1-0', text: 'x', note: '' }, 'note', 'Write the correction note for readers: it is empty'],
  ])('says what to do for %s, keeping code and path', async (_name, body, path, message) => {
    const answer = await call('POST', `/v1/stories/${newStory()}/updates`, { body });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('validation_failed');
    expect(answer.body.error.issues[0]).toEqual({ path, message });
    expect(answer.body.error.message).toBe(`the update is invalid: ${path}: ${message}`);
  });

  it('says what to do for story metadata too', async () => {
    const answer = await call('POST', '/v1/stories', { body: { story: newStory(), title: ' ', status: 'paused', coverageStartTime: '2022-02-15 12:00' } });
    expect(answer.body.error.issues).toEqual([
      { path: 'title', message: "Write the story's title: it is empty" },
      { path: 'status', message: 'The story\'s status must be "live" or "ended", not "paused"' },
      { path: 'coverageStartTime', message: 'Write the coverage start time as a date and time with its UTC offset, e.g. 2022-02-15T12:00:00+03:00' },
    ]);
  });
});
