import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { parseExposition } from '../support/prometheus-text.js';
import { rawGet, type RawAnswer } from '../support/raw-get.js';
import { deletePrefix, post, publisherKey, startTestService, statement, uniquePrefix } from '../support/test-service.js';

// The hot path (src/http/hot-reads.ts) answers plain GETs of the story page and view before the router. Each
// pair of nodes shares a Redis prefix: one with the hot path, one with READ_HOT_PATH=off. Every answer of the
// hot one must equal the router's, byte for byte and header for header, and what the hot path does not take
// must reach the router.

const prefix = uniquePrefix('hot-reads');
const partner = 'https://partner.example';
let anyOrigin: { hot: RunningService; router: RunningService };
let listedOrigin: { hot: RunningService; router: RunningService };
const story = `hot-${Date.now().toString(36)}`;
const privateStory = `${story}-private`;

/** The headers two nodes must agree on: all but those that differ per answer or per connection. */
function comparable(answer: RawAnswer): Record<string, string | string[] | undefined> {
  const { date: _date, 'x-request-id': _id, 'keep-alive': _keepAlive, connection: _connection, ...rest } = answer.headers;
  return rest;
}

async function hotAnswers(node: RunningService): Promise<number> {
  const samples = parseExposition(await (await fetch(`${node.url}/metrics`)).text());
  return samples.filter((s) => s.name === 'stoppress_http_hot_answers_total').reduce((sum, s) => sum + s.value, 0);
}

const pair = async (env: Record<string, string>): Promise<{ hot: RunningService; router: RunningService }> => {
  const [hot, router] = await Promise.all([startTestService(prefix, env), startTestService(prefix, { ...env, READ_HOT_PATH: 'off' })]);
  return { hot, router };
};

beforeAll(async () => {
  [anyOrigin, listedOrigin] = await Promise.all([pair({}), pair({ ALLOWED_ORIGINS: partner })]);
  const first = await post(anyOrigin.hot.url, story, statement('The minister said the talks would resume on Monday.'));
  expect(first.status).toBe(201);
  const correction = await post(anyOrigin.hot.url, story, { kind: 'correction', corrects: first.body.id, note: 'The talks resume on Tuesday.', text: 'The minister said the talks would resume on Tuesday.' });
  expect(correction.status).toBe(201);
  expect((await post(anyOrigin.hot.url, story, statement('Talks are expected to last two days.'))).status).toBe(201);
  expect((await post(anyOrigin.hot.url, privateStory, statement('Embargoed.'))).status).toBe(201);
  const put = await fetch(`${anyOrigin.hot.url}/v1/stories/${privateStory}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}` },
    body: JSON.stringify({ title: 'Private', status: 'live', visibility: 'private' }),
  });
  expect(put.status).toBe(200);
});

afterAll(async () => {
  await Promise.all([anyOrigin, listedOrigin].flatMap((p) => (p ? [p.hot.stop(), p.router.stop()] : [])));
  await deletePrefix(prefix);
});

describe('hot path of the story page and view', () => {
  it('answers what the router answers, for every coding and for If-None-Match, with any origin allowed and with a list', async () => {
    for (const { hot, router } of [anyOrigin, listedOrigin]) {
      const before = await hotAnswers(hot);
      let taken = 0;
      for (const path of [`/v1/stories/${story}`, `/stories/${story}`]) {
        const codings: Record<string, string>[] = [{}, { 'accept-encoding': 'gzip' }, { 'accept-encoding': 'gzip, deflate, br' }, { 'accept-encoding': 'br;q=0, gzip;q=0' }];
        for (const headers of codings) {
          const fromRouter = await rawGet(`${router.url}${path}`, headers);
          const fromHot = await rawGet(`${hot.url}${path}`, headers);
          taken += 1;
          expect(fromRouter.status).toBe(200);
          expect({ status: fromHot.status, headers: comparable(fromHot) }).toEqual({ status: fromRouter.status, headers: comparable(fromRouter) });
          expect(fromHot.body.equals(fromRouter.body)).toBe(true);
          expect(fromHot.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

          const etag = String(fromRouter.headers.etag);
          const notModifiedRouter = await rawGet(`${router.url}${path}`, { ...headers, 'if-none-match': etag });
          const notModifiedHot = await rawGet(`${hot.url}${path}`, { ...headers, 'if-none-match': etag });
          taken += 1;
          expect(notModifiedRouter.status).toBe(304);
          expect({ status: notModifiedHot.status, headers: comparable(notModifiedHot) }).toEqual({ status: 304, headers: comparable(notModifiedRouter) });
          expect(notModifiedHot.body.length).toBe(0);
        }
      }
      // Every one of those answers came from the hot path, and none of the router node's.
      expect((await hotAnswers(hot)) - before).toBe(taken);
      expect(await hotAnswers(router)).toBe(0);
    }
  });

  it('leaves to the router what it does not take: a query, Origin, credentials, HEAD, other paths', async () => {
    const { hot, router } = listedOrigin;
    const before = await hotAnswers(hot);
    const cases: { path: string; method?: string; headers?: Record<string, string> }[] = [
      { path: `/v1/stories/${story}?limit=1` },
      { path: `/stories/${story}?all=1` },
      { path: `/v1/stories/${story}`, headers: { origin: partner } },
      { path: `/v1/stories/${story}`, headers: { origin: 'https://elsewhere.example' } },
      { path: `/v1/stories/${story}`, headers: { authorization: `Bearer ${publisherKey}` } },
      { path: `/v1/stories/${story}/updates` },
      { path: `/v1/stories/${story}/` },
      { path: '/v1/stories/Not%20A%20Story' },
    ];
    for (const c of cases) {
      const init = { method: c.method ?? 'GET', headers: c.headers ?? {}, redirect: 'manual' as const };
      const [fromHot, fromRouter] = await Promise.all([fetch(`${hot.url}${c.path}`, init), fetch(`${router.url}${c.path}`, init)]);
      expect(fromHot.status, c.path).toBe(fromRouter.status);
      expect(fromHot.headers.get('access-control-allow-origin'), c.path).toBe(fromRouter.headers.get('access-control-allow-origin'));
      expect(await fromHot.text(), c.path).toBe(await fromRouter.text());
    }
    const head = await fetch(`${hot.url}/v1/stories/${story}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await hotAnswers(hot)).toBe(before);
  });

  it('hands what it gives up on to the router: an unknown story, a private one, in the error shape', async () => {
    const { hot, router } = anyOrigin;
    for (const path of [`/v1/stories/${story}-none`, `/stories/${story}-none`, `/v1/stories/${privateStory}`, `/stories/${privateStory}`]) {
      const [fromHot, fromRouter] = await Promise.all([rawGet(`${hot.url}${path}`), rawGet(`${router.url}${path}`)]);
      expect(fromHot.status, path).toBeGreaterThanOrEqual(400);
      expect({ status: fromHot.status, type: fromHot.headers['content-type'] }, path).toEqual({ status: fromRouter.status, type: fromRouter.headers['content-type'] });
      expect(fromHot.body.toString(), path).toBe(fromRouter.body.toString());
    }
    // The private story with a token that covers it: the router answers (Authorization), and shows it.
    const withKey = await fetch(`${hot.url}/v1/stories/${privateStory}`, { headers: { authorization: `Bearer ${publisherKey}` } });
    expect(withKey.status).toBe(200);
    expect(withKey.headers.get('cache-control')).toBe('private, no-store');
  });

  it('serves an update acknowledged on another node in the very next answer', async () => {
    const { hot, router } = anyOrigin;
    const published = await post(router.url, story, statement('Delegations arrived at the venue.'));
    expect(published.status).toBe(201);
    const view = (await (await fetch(`${hot.url}/v1/stories/${story}`)).json()) as { lastId: string };
    expect(view.lastId).toBe(published.body.id);
    const page = await (await fetch(`${hot.url}/stories/${story}`)).text();
    expect(page).toContain('Delegations arrived at the venue.');
  });
});
