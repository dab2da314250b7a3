import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { updateIdPattern } from '../../src/protocol/update.js';
import type { RunningService } from '../../src/service.js';
import { deletePrefix, readAnswer, type HttpAnswer, post, publisherKey, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('http-ingest');
let service: RunningService;
let base: string;

beforeAll(async () => {
  service = await startTestService(prefix);
  base = service.url;
});

afterAll(async () => {
  await service?.stop();
  await deletePrefix(prefix);
});

/** A story id of its own per test, so tests never see each other's updates. */
let storySeq = 0;
const newStory = (): string => `ingest-${++storySeq}-${randomUUID().slice(0, 8)}`;

/** Sends a request exactly as given (raw body string, own headers), for the inputs `post` cannot express. */
async function send(method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
  return readAnswer(await fetch(`${base}${path}`, { method, headers: init.headers ?? {}, ...(init.body === undefined ? {} : { body: init.body }) }));
}

const jsonWithKey = { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}` };

/** Every raw entry of a story, oldest first (the stories here stay far below the page size). */
async function entriesOf(story: string): Promise<any[]> {
  const answer = await send('GET', `/v1/stories/${story}/updates?limit=1000`);
  if (answer.status !== 200) throw new Error(`GET updates answered ${answer.status}: ${answer.text}`);
  return answer.body.updates;
}

/** What must not move when a request is rejected: the entry count, the newest id and the indexed count. */
async function snapshotOf(story: string): Promise<{ count: number; lastId: string | null; indexedCount: number | null }> {
  const entries = await entriesOf(story);
  const list = await send('GET', '/v1/stories');
  const row = (list.body.stories as any[]).find((s) => s.story === story);
  return { count: entries.length, lastId: entries.at(-1)?.id ?? null, indexedCount: row?.count ?? null };
}

function expectErrorBody(answer: HttpAnswer, status: number, code: string, message: RegExp): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
  expect(answer.body.error.message).toMatch(message);
  expect(answer.text).not.toContain(publisherKey);
}

describe('POST /v1/stories/:story/updates', () => {
  it('answers 201 with the full stored update', async () => {
    const story = newStory();
    const before = Date.now();
    const input = statement('The exercises end on 20 February.', {
      occurredAt: '2022-02-15T10:05:00+03:00',
      source: { name: 'Sergei Lavrov', role: 'Foreign minister', org: 'Russia', url: 'https://example.com/lavrov' },
      lang: 'en',
      key: true,
    });

    const answer = await post(base, story, input);

    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({ ...input, id: expect.stringMatching(updateIdPattern), story, publishedAt: expect.any(String) });
    expect(answer.body.occurredAt).toBe('2022-02-15T10:05:00+03:00');
    expect(answer.body.publishedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const publishedMs = Date.parse(answer.body.publishedAt);
    expect(publishedMs).toBeGreaterThanOrEqual(before - 1_000);
    expect(publishedMs).toBeLessThanOrEqual(Date.now() + 1_000);
    expect(await entriesOf(story)).toEqual([answer.body]);
  });

  it('accepts a text of exactly 10000 characters and a JSON content type with a charset', async () => {
    const story = newStory();
    const answer = await send('POST', `/v1/stories/${story}/updates`, {
      headers: { ...jsonWithKey, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(statement('x'.repeat(10_000))),
    });
    expect(answer.status, answer.text).toBe(201);
    expect(answer.body.text).toHaveLength(10_000);
  });

  it('assigns strictly increasing ids within a story', async () => {
    const story = newStory();
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await post(base, story, statement(`n${i}`))).body.id);
    const sorted = [...ids].sort((a, b) => {
      const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
      const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
      return am === bm ? Number(as - bs) : Number(am - bm);
    });
    expect(new Set(ids).size).toBe(5);
    expect(ids).toEqual(sorted);
  });

  it('accepts a reaction in reply to an update of the same story', async () => {
    const story = newStory();
    const target = await post(base, story, statement('target'));
    const answer = await post(base, story, { ...statement('reply'), kind: 'reaction', inReplyTo: target.body.id });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ kind: 'reaction', inReplyTo: target.body.id, story });
  });

  it('refuses a reaction in reply to a missing update with 422 target_not_found, storing nothing', async () => {
    const story = newStory();
    await post(base, story, statement('only'));
    const before = await snapshotOf(story);

    const answer = await post(base, story, { ...statement('reply'), kind: 'reaction', inReplyTo: '1-0' });

    expect(answer.status).toBe(422);
    expect(answer.body.error).toMatchObject({ code: 'target_not_found', message: expect.stringMatching(/inReplyTo "1-0"/) });
    expect(await snapshotOf(story)).toEqual(before);
  });

  it('refuses a reply to an update of another story', async () => {
    const story = newStory();
    const other = newStory();
    await post(base, story, statement('here'));
    const elsewhere = await post(base, other, statement('elsewhere'));
    const answer = await post(base, story, { ...statement('reply'), kind: 'reaction', inReplyTo: elsewhere.body.id });
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe('target_not_found');
  });

  it('refuses a correction of a missing update with 422 target_not_found', async () => {
    const story = newStory();
    await post(base, story, statement('only'));
    const before = await snapshotOf(story);

    const answer = await post(base, story, { kind: 'correction', corrects: '1-0', text: 'fixed', note: 'why' });

    expect(answer.status).toBe(422);
    expect(answer.body.error).toMatchObject({ code: 'target_not_found', message: expect.stringMatching(/corrects "1-0"/) });
    expect(await snapshotOf(story)).toEqual(before);
  });

  it('refuses a correction of a correction with 422 target_is_correction', async () => {
    const story = newStory();
    const target = await post(base, story, statement('wrong'));
    const correction = await post(base, story, { kind: 'correction', corrects: target.body.id, text: 'right', note: 'fixed the date' });
    expect(correction.status).toBe(201);
    const before = await snapshotOf(story);

    const answer = await post(base, story, { kind: 'correction', corrects: correction.body.id, text: 'righter', note: 'again' });

    expect(answer.status).toBe(422);
    expect(answer.body.error).toMatchObject({ code: 'target_is_correction', message: expect.stringMatching(/correct the original/) });
    expect(await snapshotOf(story)).toEqual(before);
  });

  it('stores a correction with its target, text and note, and sets occurredAt when none is given', async () => {
    const story = newStory();
    const target = await post(base, story, statement('20 January'));
    const answer = await post(base, story, { kind: 'correction', corrects: target.body.id, text: '20 February', note: 'The date was wrong.' });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ kind: 'correction', corrects: target.body.id, text: '20 February', note: 'The date was wrong.' });
    expect(Number.isNaN(Date.parse(answer.body.occurredAt))).toBe(false);
  });

  it('stores a retraction: retract true, a note and no text', async () => {
    const story = newStory();
    const target = await post(base, story, statement('misattributed'));
    const answer = await post(base, story, { kind: 'correction', corrects: target.body.id, retract: true, note: 'The quote was misattributed.' });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ kind: 'correction', corrects: target.body.id, retract: true, note: 'The quote was misattributed.' });
    expect(answer.body).not.toHaveProperty('text');
    expect((await entriesOf(story)).map((e) => e.kind)).toEqual(['statement', 'correction']);
  });
});

describe('Idempotency-Key', () => {
  it('answers the first update with 200 when the key repeats, and appends nothing', async () => {
    const story = newStory();
    const key = randomUUID();
    const first = await post(base, story, statement('once'), { 'idempotency-key': key });
    expect(first.status).toBe(201);

    const repeat = await post(base, story, statement('once'), { 'idempotency-key': key });

    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(first.body);
    expect(await entriesOf(story)).toEqual([first.body]);
  });

  it('answers the first update even when the retry carries another body', async () => {
    const story = newStory();
    const key = randomUUID();
    const first = await post(base, story, statement('first body'), { 'idempotency-key': key });
    const retry = await post(base, story, statement('second body'), { 'idempotency-key': key });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect((await entriesOf(story)).map((e) => e.text)).toEqual(['first body']);
  });

  it('appends exactly once when 20 retries with one key arrive at the same time', async () => {
    const story = newStory();
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(base, story, statement('concurrent'), { 'idempotency-key': key })));

    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(19);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    const entries = await entriesOf(story);
    expect(entries).toHaveLength(1);
    expect(entries[0].id).toBe(answers.find((a) => a.status === 201)!.body.id);
    expect((await snapshotOf(story)).indexedCount).toBe(1);
  });

  it('keeps keys of different stories apart', async () => {
    const [a, b] = [newStory(), newStory()];
    const key = randomUUID();
    const inA = await post(base, a, statement('in a'), { 'idempotency-key': key });
    const inB = await post(base, b, statement('in b'), { 'idempotency-key': key });
    expect([inA.status, inB.status]).toEqual([201, 201]);
    expect(inB.body).toMatchObject({ story: b, text: 'in b' });
    expect(inB.body.id).not.toBe(undefined);
    expect(await entriesOf(a)).toHaveLength(1);
    expect(await entriesOf(b)).toHaveLength(1);
  });

  it('does not record the key of a refused update, so a corrected retry is stored', async () => {
    const story = newStory();
    const key = randomUUID();
    const refused = await post(base, story, { kind: 'correction', corrects: '1-0', text: 'x', note: 'y' }, { 'idempotency-key': key });
    expect(refused.status).toBe(422);
    const retried = await post(base, story, statement('now valid'), { 'idempotency-key': key });
    expect(retried.status).toBe(201);
    expect(retried.body.text).toBe('now valid');
  });

  it.each([
    ['empty', ''],
    ['with a space', 'has space'],
    ['over 200 characters', 'k'.repeat(201)],
  ])('refuses an Idempotency-Key %s with 400, storing nothing', async (_what, key) => {
    const story = newStory();
    await post(base, story, statement('seed'));
    const before = await snapshotOf(story);

    const answer = await send('POST', `/v1/stories/${story}/updates`, {
      headers: { ...jsonWithKey, 'idempotency-key': key },
      body: JSON.stringify(statement('with a bad key')),
    });

    expectErrorBody(answer, 400, 'bad_request', /Idempotency-Key/);
    expect(await snapshotOf(story)).toEqual(before);
  });
});

describe('publisher authentication', () => {
  it('answers 401 unauthorized without an Authorization header, before reading the body', async () => {
    const story = newStory();
    const answer = await send('POST', `/v1/stories/${story}/updates`, { headers: { 'content-type': 'application/json' }, body: '{not json' });
    expectErrorBody(answer, 401, 'unauthorized', /Bearer/);
    expect((await send('GET', `/v1/stories/${story}`)).status).toBe(404);
  });

  it('answers 401 unauthorized for a key that is not a publisher key, without echoing any key', async () => {
    const story = newStory();
    const wrongKey = 'wrong-key-4b1f9c';
    const answer = await send('POST', `/v1/stories/${story}/updates`, {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${wrongKey}` },
      body: JSON.stringify(statement('intruder')),
    });
    expectErrorBody(answer, 401, 'unauthorized', /not valid/);
    expect(answer.text).not.toContain(wrongKey);
    expect((await send('GET', `/v1/stories/${story}`)).status).toBe(404);
  });

  it.each([
    ['a Basic scheme', `Basic ${Buffer.from(`user:${publisherKey}`).toString('base64')}`],
    ['the bare key', publisherKey],
    ['a key with a prefix of the real one', `Bearer ${publisherKey.slice(0, -1)}`],
    ['a longer key that starts with the real one', `Bearer ${publisherKey}x`],
  ])('answers 401 for %s', async (_what, authorization) => {
    const answer = await send('POST', `/v1/stories/${newStory()}/updates`, {
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify(statement('nope')),
    });
    expectErrorBody(answer, 401, 'unauthorized', /.+/);
  });

  it('lets a client check a key with GET /v1/publisher, writing nothing', async () => {
    const good = await send('GET', '/v1/publisher', { headers: { authorization: `Bearer ${publisherKey}` } });
    expect(good.status).toBe(200);
    expect(JSON.parse(good.text)).toEqual({ publisher: true });
    expectErrorBody(await send('GET', '/v1/publisher', { headers: { authorization: 'Bearer wrong-key-4b1f9c' } }), 401, 'unauthorized', /not valid/);
    expectErrorBody(await send('GET', '/v1/publisher'), 401, 'unauthorized', /Bearer/);
  });
});

describe('refused input leaves the story unchanged', () => {
  const story = newStory();
  let before: Awaited<ReturnType<typeof snapshotOf>>;
  let targetId: string;
  const appendSpy = () => vi.spyOn(service.store, 'append');

  beforeAll(async () => {
    targetId = (await post(base, story, statement('seed one'))).body.id;
    await post(base, story, statement('seed two'));
    before = await snapshotOf(story);
    expect(before.count).toBe(2);
  });

  const json = (value: unknown): string => JSON.stringify(value);
  const validFields = '"kind":"statement","occurredAt":"2022-02-15T10:00:00+03:00","text":"hello"';

  const cases: { name: string; body: () => string; contentType?: string; status: number; code: string; message: RegExp }[] = [
    { name: 'malformed JSON', body: () => '{"kind":"statement",', status: 400, code: 'bad_request', message: /^the body is not valid JSON: .*JSON/ },
    { name: 'an empty body', body: () => '', status: 400, code: 'bad_request', message: /empty/ },
    { name: 'a JSON array', body: () => json([statement('in an array')]), status: 400, code: 'bad_request', message: /must be a JSON object, not an array/ },
    { name: 'a JSON string', body: () => json('a statement'), status: 400, code: 'bad_request', message: /must be a JSON object, not a string/ },
    { name: 'a JSON number', body: () => '42', status: 400, code: 'bad_request', message: /must be a JSON object, not a number/ },
    { name: 'JSON null', body: () => 'null', status: 400, code: 'bad_request', message: /must be a JSON object, not null/ },
    { name: 'a top-level __proto__ key', body: () => `{"__proto__":{"x":1},${validFields}}`, status: 400, code: 'bad_request', message: /"__proto__" and "constructor.prototype" keys are not allowed/ },
    {
      name: 'a constructor.prototype key',
      body: () => `{"constructor":{"prototype":{"x":1}},${validFields}}`,
      status: 400,
      code: 'bad_request',
      message: /"__proto__" and "constructor.prototype" keys are not allowed/,
    },
    {
      name: 'a __proto__ key nested inside source',
      body: () => `{${validFields},"source":{"name":"A","__proto__":{"x":1}}}`,
      status: 400,
      code: 'bad_request',
      message: /"__proto__" and "constructor.prototype" keys are not allowed/,
    },
    { name: 'an unknown top-level field', body: () => json(statement('t', { mood: 'tense' })), status: 400, code: 'validation_failed', message: /unknown field: mood/ },
    {
      name: 'an unknown field in source',
      body: () => json(statement('t', { source: { name: 'A', handle: '@a' } })),
      status: 400,
      code: 'validation_failed',
      message: /source: unknown field: handle/,
    },
    { name: 'a number as text', body: () => json({ ...statement('t'), text: 42 }), status: 400, code: 'validation_failed', message: /^the update is invalid: text:/ },
    { name: 'a string as key', body: () => json(statement('t', { key: 'yes' })), status: 400, code: 'validation_failed', message: /key:/ },
    { name: 'a text of 10001 characters', body: () => json(statement('x'.repeat(10_001))), status: 400, code: 'validation_failed', message: /text:.*10000/ },
    { name: 'an empty text', body: () => json(statement('')), status: 400, code: 'validation_failed', message: /text:/ },
    {
      name: 'an occurredAt without an offset',
      body: () => json(statement('t', { occurredAt: '2022-02-15T10:00:00' })),
      status: 400,
      code: 'validation_failed',
      message: /occurredAt:/,
    },
    { name: 'an unknown kind', body: () => json({ ...statement('t'), kind: 'opinion' }), status: 400, code: 'validation_failed', message: /kind/ },
    { name: 'no kind at all', body: () => json({ occurredAt: '2022-02-15T10:00:00Z', text: 't' }), status: 400, code: 'validation_failed', message: /kind/ },
    {
      name: 'a correction without a note',
      body: () => json({ kind: 'correction', corrects: targetId, text: 'fixed' }),
      status: 400,
      code: 'validation_failed',
      message: /note:/,
    },
    {
      name: 'a correction with both retract and text',
      body: () => json({ kind: 'correction', corrects: targetId, retract: true, text: 'fixed', note: 'n' }),
      status: 400,
      code: 'validation_failed',
      message: /retraction carries no text/,
    },
    {
      name: 'a correction with neither text nor retract',
      body: () => json({ kind: 'correction', corrects: targetId, note: 'n' }),
      status: 400,
      code: 'validation_failed',
      message: /corrected full "text"/,
    },
    {
      name: 'a correction whose corrects is not an update id',
      body: () => json({ kind: 'correction', corrects: 'latest', text: 'fixed', note: 'n' }),
      status: 400,
      code: 'validation_failed',
      message: /corrects:/,
    },
    {
      name: 'a correction whose corrects is past the 64-bit range',
      body: () => json({ kind: 'correction', corrects: '99999999999999999999-0', text: 'fixed', note: 'n' }),
      status: 400,
      code: 'validation_failed',
      message: /corrects: a part is over 18446744073709551615/,
    },
    {
      name: 'a reaction whose inReplyTo has a part past the 64-bit range',
      body: () => json({ ...statement('r'), kind: 'reaction', inReplyTo: '1-18446744073709551616' }),
      status: 400,
      code: 'validation_failed',
      message: /inReplyTo: a part is over 18446744073709551615/,
    },
    {
      name: 'a correction whose corrects has leading zeros',
      body: () => json({ kind: 'correction', corrects: '007-0', text: 'fixed', note: 'n' }),
      status: 400,
      code: 'validation_failed',
      message: /corrects: a part has leading zeros/,
    },
    {
      name: 'a body over 64 KiB',
      body: () => json(statement('x', { source: { name: 'y'.repeat(70 * 1024) } })),
      status: 413,
      code: 'body_too_large',
      message: /64 KiB/,
    },
    { name: 'a text/plain body', body: () => json(statement('plain')), contentType: 'text/plain', status: 415, code: 'unsupported_media_type', message: /application\/json/ },
    {
      name: 'a form-encoded body',
      body: () => 'kind=statement&text=hello',
      contentType: 'application/x-www-form-urlencoded',
      status: 415,
      code: 'unsupported_media_type',
      message: /application\/json/,
    },
  ];

  it.each(cases)('refuses $name with $status $code', async ({ body, contentType, status, code, message }) => {
    const spy = appendSpy();
    try {
      const answer = await send('POST', `/v1/stories/${story}/updates`, {
        headers: { ...jsonWithKey, 'content-type': contentType ?? 'application/json' },
        body: body(),
      });
      expectErrorBody(answer, status, code, message);
      if (code === 'validation_failed') expect(answer.body.error.issues).toEqual(expect.arrayContaining([{ path: expect.any(String), message: expect.any(String) }]));
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
    expect(await snapshotOf(story)).toEqual(before);
  });

  it.each([
    ['upper-case letters', 'Breaking-News'],
    ['a leading dash', '-leading'],
    ['65 characters', 'a'.repeat(65)],
    ['300 characters', 'b'.repeat(300)],
    ['an encoded path traversal', '..%2F'],
    ['an encoded hash tag brace', 'x%7D'],
  ])('refuses a story id with %s with 400 invalid_story_id before Redis is touched', async (_what, storyId) => {
    const spy = appendSpy();
    try {
      const answer = await send('POST', `/v1/stories/${storyId}/updates`, { headers: jsonWithKey, body: json(statement('t')) });
      expectErrorBody(answer, 400, 'invalid_story_id', /story id .* is invalid/);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('leaves Object.prototype unpolluted after the __proto__ and constructor.prototype bodies', () => {
    expect(Object.prototype).not.toHaveProperty('x');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('still answers /healthz and accepts a good update afterwards', async () => {
    expect((await send('GET', '/healthz')).status).toBe(200);
    const spy = appendSpy();
    try {
      const answer = await post(base, story, statement('still working'));
      expect(answer.status).toBe(201);
      // The same spy that saw no call for the refused requests above does see this one.
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
    expect((await snapshotOf(story)).count).toBe(before.count + 1);
  });
});
