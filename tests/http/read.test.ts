import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareUpdateIds, publishedAtOf } from '../../src/protocol/update.js';
import type { RunningService } from '../../src/service.js';
import { storyKeys } from '../../src/store/keys.js';
import { deletePrefix, post, publisherKey, redisUrl, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('http-read');
let service: RunningService;
let base: string;
let redis: Redis;

beforeAll(async () => {
  service = await startTestService(prefix);
  base = service.url;
  redis = new Redis(redisUrl);
});

afterAll(async () => {
  await service?.stop();
  redis?.disconnect();
  await deletePrefix(prefix);
});

let storySeq = 0;
const newStory = (): string => `read-${++storySeq}-${randomUUID().slice(0, 8)}`;

async function get(path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: await response.json() };
}

async function put(story: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${publisherKey}` }): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}/v1/stories/${story}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** Posts and insists on 201, returning the stored update. */
async function append(story: string, body: Record<string, unknown>): Promise<any> {
  const answer = await post(base, story, body);
  if (answer.status !== 201) throw new Error(`POST answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

const correction = (target: any, text: string, note: string) => ({ kind: 'correction', corrects: target.id, text, note });
const retraction = (target: any, note: string) => ({ kind: 'correction', corrects: target.id, retract: true, note });

const meta = {
  title: 'Russia-Ukraine tensions, 15 February 2022',
  summary: 'Moscow says some troops are returning to base.',
  status: 'live',
  coverageStartTime: '2022-02-15T06:00:00Z',
  coverageEndTime: '2022-02-15T23:00:00Z',
};

describe('GET /v1/stories/:story', () => {
  it('answers 404 not_found for a story with no updates', async () => {
    const answer = await get(`/v1/stories/${newStory()}`);
    expect(answer.status).toBe(404);
    expect(answer.body.error).toMatchObject({ code: 'not_found', message: expect.stringMatching(/has no updates/) });
  });

  it('answers 400 invalid_story_id for a bad story id', async () => {
    const answer = await get('/v1/stories/Not-A-Story');
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_story_id');
  });

  it('folds corrections into their targets: latest text, every correction listed, none as an item', async () => {
    const story = newStory();
    const a = await append(story, statement('The exercises end on 20 January.'));
    const b = await append(story, { ...statement('We are checking.'), kind: 'reaction', inReplyTo: a.id });
    const first = await append(story, correction(a, 'The exercises end on 10 February.', 'Wrong month.'));
    const second = await append(story, correction(a, 'The exercises end on 20 February.', 'Wrong day as well.'));

    const answer = await get(`/v1/stories/${story}`);

    expect(answer.status).toBe(200);
    expect(answer.body.story).toBe(story);
    expect(answer.body.lastId).toBe(second.id);
    expect(answer.body.updates).toEqual([
      {
        ...a,
        text: 'The exercises end on 20 February.',
        corrections: [
          { id: first.id, note: 'Wrong month.', publishedAt: first.publishedAt },
          { id: second.id, note: 'Wrong day as well.', publishedAt: second.publishedAt },
        ],
      },
      b,
    ]);
  });

  it('shows a retracted update as withdrawn, without text, with the note', async () => {
    const story = newStory();
    const a = await append(story, statement('Misattributed quote.'));
    const r = await append(story, retraction(a, 'The quote was misattributed; we withdraw it.'));

    const { body } = await get(`/v1/stories/${story}`);

    expect(body.updates).toHaveLength(1);
    expect(body.updates[0]).toMatchObject({ id: a.id, withdrawn: true });
    expect(body.updates[0]).not.toHaveProperty('text');
    expect(body.updates[0].corrections).toEqual([
      { id: r.id, note: 'The quote was misattributed; we withdraw it.', publishedAt: r.publishedAt, retract: true },
    ]);
    expect(body.lastId).toBe(r.id);
  });

  it('gives as lastId the newest entry, a correction included, so a subscriber can continue from it', async () => {
    const story = newStory();
    const a = await append(story, statement('one'));
    await append(story, statement('two'));
    const fix = await append(story, correction(a, 'one, corrected', 'typo'));
    const { body } = await get(`/v1/stories/${story}`);
    expect(body.lastId).toBe(fix.id);
    expect((await get(`/v1/stories/${story}/updates?after=${body.lastId}`)).body.updates).toEqual([]);
  });

  it('carries the story metadata after a PUT', async () => {
    const story = newStory();
    await append(story, statement('first'));
    expect((await put(story, meta)).status).toBe(200);
    const { body } = await get(`/v1/stories/${story}`);
    expect(body).toMatchObject({ story, ...meta });
  });

  it('skips a correction whose target is no longer in the stream', async () => {
    const story = newStory();
    const a = await append(story, statement('soon gone'));
    const b = await append(story, statement('stays'));
    const fix = await append(story, correction(a, 'corrected', 'n'));
    // What trimming does to an old target, done directly so the test does not depend on stream node sizes.
    await redis.xdel(storyKeys(prefix, story).updates, a.id);

    const { body } = await get(`/v1/stories/${story}`);

    expect(body.updates).toEqual([b]);
    expect(body.lastId).toBe(fix.id);
  });
});

describe('GET /v1/stories/:story/updates', () => {
  let story: string;
  let all: any[];

  beforeAll(async () => {
    story = newStory();
    all = [];
    const a = await append(story, statement('s0'));
    all.push(a);
    all.push(await append(story, correction(a, 's0 corrected', 'n')));
    // The rest in parallel batches: Redis orders them; we read the order back from the ids.
    for (let batch = 0; batch < 5; batch += 1) {
      all.push(...(await Promise.all(Array.from({ length: 25 }, (_, i) => append(story, statement(`s${batch}-${i}`))))));
    }
    all.sort((x, y) => compareUpdateIds(x.id, y.id));
    expect(all).toHaveLength(127);
  });

  it('answers the raw entries oldest first, corrections included as entries', async () => {
    const { status, body } = await get(`/v1/stories/${story}/updates?limit=1000`);
    expect(status).toBe(200);
    expect(body.updates).toEqual(all);
    expect(body.updates[1]).toMatchObject({ kind: 'correction', corrects: all[0].id, text: 's0 corrected' });
    expect(body.nextAfter).toBe(all.at(-1).id);
  });

  it('answers 100 entries by default', async () => {
    const { body } = await get(`/v1/stories/${story}/updates`);
    expect(body.updates).toEqual(all.slice(0, 100));
    expect(body.nextAfter).toBe(all[99].id);
  });

  it('answers only the entries after `after`, exclusive', async () => {
    const { body } = await get(`/v1/stories/${story}/updates?after=${all[9].id}&limit=3`);
    expect(body.updates).toEqual(all.slice(10, 13));
    expect(body.nextAfter).toBe(all[12].id);
  });

  it.each([1, 1000])('accepts limit=%i', async (limit) => {
    const { status, body } = await get(`/v1/stories/${story}/updates?limit=${limit}`);
    expect(status).toBe(200);
    expect(body.updates).toHaveLength(Math.min(limit, all.length));
  });

  it('covers every entry exactly once when paging with nextAfter', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 100; page += 1) {
      const query: string = after === null ? 'limit=7' : `limit=7&after=${after}`;
      const { body } = await get(`/v1/stories/${story}/updates?${query}`);
      if (body.updates.length === 0) {
        expect(body.nextAfter).toBe(after);
        break;
      }
      expect(body.updates.length).toBeLessThanOrEqual(7);
      seen.push(...body.updates.map((u: any) => u.id));
      after = body.nextAfter;
    }
    expect(seen).toEqual(all.map((u) => u.id));
  });

  it.each(['0', '1001', 'abc', '-1', '2.5'])('refuses limit=%s with 400 validation_failed', async (limit) => {
    const { status, body } = await get(`/v1/stories/${story}/updates?limit=${limit}`);
    expect(status).toBe(400);
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.message).toMatch(/limit/);
  });

  it.each(['latest', '123', '1-2-3', '-1', '1-0%20'])('refuses after=%s with 400 invalid_update_id', async (after) => {
    const { status, body } = await get(`/v1/stories/${story}/updates?after=${after}`);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'invalid_update_id', message: expect.stringMatching(/^after .* is not an update id/) });
  });

  it.each([
    ['18446744073709551616-0', /over 18446744073709551615/],
    ['0-18446744073709551616', /over 18446744073709551615/],
    ['99999999999999999999-0', /over 18446744073709551615/],
    ['01-0', /leading zeros/],
    ['1-00', /leading zeros/],
  ])('refuses after=%s, outside the 64-bit canonical form, with 400 invalid_update_id saying why', async (after, why) => {
    const { status, body } = await get(`/v1/stories/${story}/updates?after=${after}`);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'invalid_update_id', message: expect.stringMatching(why) });
  });

  it('answers an empty page for after= the largest id, and the whole story for after=0-0', async () => {
    const largest = await get(`/v1/stories/${story}/updates?after=18446744073709551615-18446744073709551615`);
    expect(largest).toEqual({ status: 200, body: { updates: [], nextAfter: '18446744073709551615-18446744073709551615' } });
    const edge = await get(`/v1/stories/${story}/updates?after=18446744073709551615-0`);
    expect(edge).toEqual({ status: 200, body: { updates: [], nextAfter: '18446744073709551615-0' } });
    const all = await get(`/v1/stories/${story}/updates?after=0-0`);
    expect(all.status).toBe(200);
    expect(all.body.updates.length).toBeGreaterThan(0);
  });

  it('answers no entries for a story that has none', async () => {
    const { status, body } = await get(`/v1/stories/${newStory()}/updates`);
    expect(status).toBe(200);
    expect(body).toEqual({ updates: [], nextAfter: null });
  });

  it('answers 400 invalid_story_id for a bad story id', async () => {
    const { status, body } = await get('/v1/stories/-bad/updates');
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_story_id');
  });
});

describe('PUT /v1/stories/:story', () => {
  it('answers 401 without a publisher key and stores nothing', async () => {
    const story = newStory();
    const answer = await put(story, meta, {});
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('unauthorized');
    expect((await get(`/v1/stories/${story}`)).status).toBe(404);
    expect((await get('/v1/stories')).body.stories.map((s: any) => s.story)).not.toContain(story);
  });

  it('answers 401 with a wrong publisher key', async () => {
    const answer = await put(newStory(), meta, { authorization: 'Bearer not-the-key' });
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('unauthorized');
  });

  it.each([
    ['an unknown status', { ...meta, status: 'paused' }, /status/],
    ['an unknown field', { ...meta, author: 'desk' }, /unknown field: author/],
    ['no title', { status: 'live' }, /title/],
    ['an end before the start', { ...meta, coverageStartTime: '2022-02-15T12:00:00Z', coverageEndTime: '2022-02-15T11:00:00Z' }, /The coverage ends before it starts/],
    ['a coverage time without offset', { ...meta, coverageStartTime: '2022-02-15T12:00:00' }, /coverageStartTime/],
  ])('answers 400 validation_failed for %s and keeps the metadata', async (_what, body, message) => {
    const story = newStory();
    await append(story, statement('x'));
    await put(story, meta);

    const answer = await put(story, body);

    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'validation_failed', message: expect.stringMatching(message) });
    expect((await get(`/v1/stories/${story}`)).body).toMatchObject(meta);
  });

  it('answers 400 bad_request for a JSON array body', async () => {
    const answer = await put(newStory(), [meta]);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('bad_request');
  });

  it('answers 200 with the metadata, and the view and the list carry it', async () => {
    const story = newStory();
    await append(story, statement('x'));

    const answer = await put(story, meta);

    expect(answer.status).toBe(200);
    // The answer also shows the visibility as stored (a PUT that leaves it out keeps it; public by default).
    expect(answer.body).toEqual({ story, ...meta, visibility: 'public', embargoUntil: null });
    expect((await get(`/v1/stories/${story}`)).body).toMatchObject({ story, ...meta });
    const row = (await get('/v1/stories')).body.stories.find((s: any) => s.story === story);
    expect(row).toMatchObject({ title: meta.title, status: 'live' });
  });

  it('replaces the metadata: fields left out are removed', async () => {
    const story = newStory();
    await append(story, statement('x'));
    await put(story, meta);

    expect((await put(story, { title: 'Ended', status: 'ended' })).status).toBe(200);

    const { body } = await get(`/v1/stories/${story}`);
    expect(body).toMatchObject({ title: 'Ended', status: 'ended' });
    expect(body).not.toHaveProperty('summary');
    expect(body).not.toHaveProperty('coverageStartTime');
  });
});

describe('GET /v1/stories', () => {
  /** Waits until Redis' clock is past `ms`, so the next entry gets a later millisecond than the one at `ms`. */
  async function untilRedisClockPasses(ms: number): Promise<void> {
    for (let attempt = 0; attempt < 1_000; attempt += 1) {
      const [seconds, micros] = await redis.time();
      if (Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) > ms) return;
    }
    throw new Error('the Redis clock did not move');
  }
  const msOf = (id: string): number => Number(id.split('-')[0]);

  it('lists stories most recently updated first, with their title, status, lastId, updatedAt and count', async () => {
    const [a, b] = [newStory(), newStory()];
    expect((await put(a, meta)).status).toBe(200);
    const a1 = await append(a, statement('a1'));
    await untilRedisClockPasses(msOf(a1.id));
    const b1 = await append(b, statement('b1'));
    await untilRedisClockPasses(msOf(b1.id));
    const a2 = await append(a, correction(a1, 'a1 corrected', 'n'));

    const { status, body } = await get('/v1/stories');

    expect(status).toBe(200);
    const rows = (body.stories as any[]).filter((s) => s.story === a || s.story === b);
    expect(rows).toEqual([
      { story: a, title: meta.title, status: 'live', lastId: a2.id, updatedAt: publishedAtOf(a2.id), count: 2 },
      { story: b, title: null, status: null, lastId: b1.id, updatedAt: publishedAtOf(b1.id), count: 1 },
    ]);
    const order = (body.stories as any[]).map((s) => s.story);
    expect(order.indexOf(a)).toBeLessThan(order.indexOf(b));
    const times = (body.stories as any[]).map((s) => Date.parse(s.updatedAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
  });

  it('does not list a story whose update was refused', async () => {
    const story = newStory();
    const answer = await post(base, story, { ...statement('t'), kind: 'reaction', inReplyTo: '1-0' });
    expect(answer.status).toBe(422);
    expect((await get('/v1/stories')).body.stories.map((s: any) => s.story)).not.toContain(story);
  });
});

describe('stream trimming (STREAM_MAXLEN)', () => {
  let small: RunningService;

  beforeAll(async () => {
    small = await startTestService(prefix, { STREAM_MAXLEN: '10' });
  });

  afterAll(async () => {
    await small?.stop();
  });

  it('keeps a story stream bounded and refuses a correction of a trimmed update', async () => {
    const story = newStory();
    const ids: string[] = [];
    for (let batch = 0; batch < 8; batch += 1) {
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => post(small.url, story, statement(`n${batch}-${i}`))));
      for (const answer of answers) {
        expect(answer.status).toBe(201);
        ids.push(answer.body.id);
      }
    }
    ids.sort(compareUpdateIds);

    const length = await redis.xlen(storyKeys(prefix, story).updates);
    expect(length).toBeGreaterThanOrEqual(10);
    expect(length).toBeLessThan(250);

    const retained = (await get(`/v1/stories/${story}/updates?limit=1000`)).body.updates.map((u: any) => u.id);
    expect(retained).toEqual(ids.slice(-retained.length));
    const view = (await get(`/v1/stories/${story}`)).body;
    expect(view.lastId).toBe(ids.at(-1));
    expect(view.updates).toHaveLength(length);

    const refused = await post(small.url, story, { kind: 'correction', corrects: ids[0], text: 'too late', note: 'n' });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('target_not_found');
  });
});
