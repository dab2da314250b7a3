import { generateKeyPairSync } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startService, type RunningService } from '../../src/service.js';
import { deletePrefix, post, publisherKey, redisUrl, startTestService, statement, testConfig, uniquePrefix } from '../support/test-service.js';
import { waitUntil } from '../support/wait-until.js';

const secret = 'private-stories-test-secret-0123456789abcdef';
const prefix = uniquePrefix('private-stories');
const env = { SUBSCRIBER_TOKEN_SECRET: secret, EMBARGO_POLL_MS: '100', LOG_LEVEL: 'info' };
const logLines: string[] = [];
let service: RunningService;
let other: RunningService;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  service = await startService(testConfig(prefix, env), createLogger('info', sink));
  // A second node on the same Redis and prefix.
  other = await startTestService(prefix, { ...env, LOG_LEVEL: 'silent' });
});
afterAll(async () => {
  await Promise.all([service?.stop(), other?.stop()]);
  await deletePrefix(prefix);
});

const publisher = { authorization: `Bearer ${publisherKey}` };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const now = () => Math.floor(Date.now() / 1000);
const sign = (claims: Record<string, unknown>, key = secret) =>
  new SignJWT({ sub: 'partner', exp: now() + 300, ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(key));

async function put(story: string, meta: Record<string, unknown>, base = service.url): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}/v1/stories/${story}`, { method: 'PUT', headers: { ...publisher, 'content-type': 'application/json' }, body: JSON.stringify(meta) });
  return { status: response.status, body: await response.json() };
}
const get = (path: string, headers: Record<string, string> = {}, base = service.url) => fetch(`${base}${path}`, { headers });

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

describe('private stories over HTTP', () => {
  it('keeps visibility when a PUT leaves it out: never public by omission', async () => {
    const story = 'kept-private';
    expect((await put(story, { title: 'Secret', status: 'live', visibility: 'private' })).body).toMatchObject({ visibility: 'private' });
    await post(service.url, story, statement('hidden'));
    const again = await put(story, { title: 'Secret, retitled', status: 'live' });
    expect(again.body).toMatchObject({ visibility: 'private', embargoUntil: null });
    expect((await get(`/v1/stories/${story}`)).status).toBe(404);
    expect(await put(story, { title: 'Open', status: 'live', visibility: 'public' })).toMatchObject({ body: { visibility: 'public' } });
    expect((await get(`/v1/stories/${story}`)).status).toBe(200);
  });

  it('answers 404 without a token, 401 for a bad or expired one, 404 for one that does not cover, and private no-store for one that does', async () => {
    const story = 'private-budget';
    await put(story, { title: 'Budget', status: 'live', visibility: 'private' });
    const id = (await post(service.url, story, statement('the numbers'))).body.id;
    const covering = await sign({ stories: ['private-*'] });
    const paths = [`/v1/stories/${story}`, `/v1/stories/${story}?limit=1`, `/v1/stories/${story}/updates`, `/stories/${story}`];
    for (const path of paths) {
      expect((await get(path)).status, path).toBe(404);
      const bad = await get(path, bearer('not.a.jwt'));
      expect([bad.status, bad.headers.get('content-type')?.startsWith('text/html') ? 'token_invalid' : await errorCode(bad)], path).toEqual([401, 'token_invalid']);
      expect((await get(path, bearer(await sign({ stories: ['*'] }, 'another-secret-of-enough-length-0123456789')))).status, path).toBe(401);
      const expired = await get(path, bearer(await sign({ stories: ['*'], exp: now() - 5 })));
      expect(expired.status, path).toBe(401);
      if (!path.startsWith('/stories/')) expect(await errorCode(expired)).toBe('token_expired');
      expect((await get(path, bearer(await sign({ stories: ['other-story', 'budget-*'] })))).status, path).toBe(404);
      for (const answer of [await get(path, bearer(covering)), await get(`${path}${path.includes('?') ? '&' : '?'}token=${covering}`), await get(path, publisher)]) {
        expect(answer.status, path).toBe(200);
        expect(answer.headers.get('cache-control'), path).toBe('private, no-store');
        expect(answer.headers.get('vary'), path).toMatch(/Authorization/);
      }
    }
    const view = (await (await get(`/v1/stories/${story}`, bearer(covering))).json()) as { updates: { id: string }[]; visibility: string };
    expect(view).toMatchObject({ visibility: 'private', updates: [{ id }] });
  });

  it('never serves a private story from the read cache to a reader without access, nor with public cache headers', async () => {
    const story = 'turns-private';
    await put(story, { title: 'Public first', status: 'live' });
    await post(service.url, story, statement('cached'));
    const first = await get(`/v1/stories/${story}`);
    expect(first.headers.get('cache-control')).toMatch(/^public/);
    const etag = first.headers.get('etag')!;
    expect((await get(`/v1/stories/${story}`, { 'if-none-match': etag })).status).toBe(304);
    await put(story, { title: 'Now private', status: 'live', visibility: 'private' });
    for (const base of [service.url, other.url]) {
      expect((await get(`/v1/stories/${story}`, {}, base)).status).toBe(404);
      expect((await get(`/v1/stories/${story}`, { 'if-none-match': etag }, base)).status).toBe(404);
      const token = await sign({ stories: [story] });
      const fresh = await get(`/v1/stories/${story}`, bearer(token), base);
      expect(fresh.headers.get('cache-control')).toBe('private, no-store');
      const revalidated = await get(`/v1/stories/${story}`, { ...bearer(token), 'if-none-match': fresh.headers.get('etag')! }, base);
      expect(revalidated.status).toBe(304);
      expect(revalidated.headers.get('cache-control')).toBe('private, no-store');
    }
  });

  it('leaves private stories out of GET /v1/stories and / unless the token covers them', async () => {
    const story = 'listed-private';
    await put(story, { title: 'Listed only with a token', status: 'live', visibility: 'private' });
    const ids = async (headers: Record<string, string>) => ((await (await get('/v1/stories', headers)).json()) as { stories: { story: string }[] }).stories.map((s) => s.story);
    expect(await ids({})).not.toContain(story);
    expect(await ids(bearer(await sign({ stories: ['nothing-else'] })))).not.toContain(story);
    const covered = await get('/v1/stories', bearer(await sign({ stories: ['listed-*'] })));
    expect(covered.headers.get('cache-control')).toBe('private, no-store');
    expect(((await covered.json()) as { stories: { story: string; visibility?: string }[] }).stories.find((s) => s.story === story)).toMatchObject({ visibility: 'private' });
    expect(await (await get('/')).text()).not.toContain('Listed only with a token');
    const page = await get(`/?token=${await sign({ stories: [story] })}`);
    expect(page.headers.get('cache-control')).toBe('private, no-store');
    expect(await page.text()).toContain('Listed only with a token');
    expect((await get('/v1/stories', bearer('garbage'))).status).toBe(401);
  });

  it('never logs a token given as a query parameter', async () => {
    const token = await sign({ stories: ['*'] });
    await get(`/v1/stories/private-budget?token=${token}&limit=1`);
    await get(`/v1/stories/private-budget/events?token=${token}&lastEventId=bad`);
    const all = logLines.join('');
    expect(all).toContain('token=[redacted]');
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.split('.')[2]);
  });
});

describe('POST /v1/tokens', () => {
  it('mints a token that opens the stories it names, for publishers only', async () => {
    const story = 'minted-story';
    await put(story, { title: 'Minted', status: 'live', visibility: 'private' });
    const minted = await fetch(`${service.url}/v1/tokens`, { method: 'POST', headers: { ...publisher, 'content-type': 'application/json' }, body: JSON.stringify({ sub: 'partner-1', stories: ['minted-*'], ttlSeconds: 60 }) });
    expect(minted.status).toBe(201);
    const { token, expiresAt } = (await minted.json()) as { token: string; expiresAt: string };
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now() + 50_000);
    expect((await get(`/v1/stories/${story}`, bearer(token))).status).toBe(200);
    const unauthorized = await fetch(`${service.url}/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(token) }, body: JSON.stringify({ sub: 'x', stories: ['*'], ttlSeconds: 60 }) });
    expect(unauthorized.status).toBe(401);
    for (const body of [{ sub: 'x', stories: ['*foo'], ttlSeconds: 60 }, { sub: 'x', stories: ['a*b'], ttlSeconds: 60 }, { sub: 'x', stories: [], ttlSeconds: 60 }, { sub: 'x', stories: ['*'], ttlSeconds: 0 }, { sub: 'x', stories: ['*'], ttlSeconds: 60, admin: true }, { sub: 'x', stories: Array.from({ length: 101 }, (_, i) => `s-${i}`), ttlSeconds: 60 }]) {
      const refused = await fetch(`${service.url}/v1/tokens`, { method: 'POST', headers: { ...publisher, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(refused.status, JSON.stringify(body).slice(0, 80)).toBe(400);
    }
  });

  it('answers 501 minting_unavailable when only a public key is configured', async () => {
    const pem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const verifying = await startTestService(uniquePrefix('private-pem'), { SUBSCRIBER_TOKEN_PUBLIC_KEY: pem });
    try {
      const answer = await fetch(`${verifying.url}/v1/tokens`, { method: 'POST', headers: { ...publisher, 'content-type': 'application/json' }, body: JSON.stringify({ sub: 'x', stories: ['*'], ttlSeconds: 60 }) });
      expect(answer.status).toBe(501);
      expect(await answer.json()).toEqual({ error: { code: 'minting_unavailable', message: expect.stringMatching(/SUBSCRIBER_TOKEN_SECRET/) } });
    } finally {
      await verifying.stop();
    }
  });
});

describe('embargoes', () => {
  it('keeps an embargoed story private until embargoUntil, then opens it on every node and switches it once', async () => {
    const story = 'embargoed';
    const at = Date.now() + 1_500;
    const embargoUntil = new Date(at).toISOString();
    const put1 = await put(story, { title: 'Embargoed', status: 'live', embargoUntil });
    expect(put1.body).toMatchObject({ visibility: 'private', embargoUntil });
    await post(service.url, story, statement('under embargo'));
    expect((await put(story, { title: 'Embargoed, retitled', status: 'live' })).body).toMatchObject({ visibility: 'private', embargoUntil });
    const versionBefore = (await service.store.readStamp(story)).version;
    for (const base of [service.url, other.url]) expect((await get(`/v1/stories/${story}`, {}, base)).status).toBe(404);
    // Reads open at embargoUntil on both nodes, whether or not a scheduler has switched yet.
    for (;;) {
      const asked = Date.now();
      const answers = await Promise.all([service.url, other.url].map((base) => get(`/v1/stories/${story}`, {}, base)));
      const statuses = answers.map((a) => a.status);
      if (statuses.every((s) => s === 200)) break;
      // Answered before embargoUntil, both refuse; asked at or after it, both open. Right at the boundary (asked
      // before, answered after) the two nodes may answer differently.
      if (Date.now() < at) expect(statuses).toEqual([404, 404]);
      expect(asked, 'a read asked after embargoUntil was refused').toBeLessThan(at);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(Date.now()).toBeGreaterThanOrEqual(at - 5);
    // The stamp turns public inside the release script, a moment before the releasing node reads the
    // script's answer and counts it: wait on the count, not on the stamp.
    const releasedCount = () => service.embargoes.released + other.embargoes.released;
    await waitUntil(() => releasedCount() > 0);
    const stamp = await service.store.readStamp(story);
    expect(stamp).toMatchObject({ visibility: 'public', embargoUntil: null, version: versionBefore + 1 });
    // The switch is one story-change entry in the stream (so subscribers hear of it live, once).
    const redis = new Redis(redisUrl);
    const entries = await redis.xrange(`${prefix}story:{${story}}:updates`, '-', '+');
    redis.disconnect();
    const switches = entries.filter(([, fields]) => fields[1] === 'story' && fields[3]!.includes('"visibility":"public"'));
    expect(switches).toHaveLength(1);
    expect(entries.at(-1)![0]).toBe(switches[0]![0]);
    // A later poll finds nothing more to do.
    await Promise.all([service.embargoes.poll(Date.now() + 10_000), other.embargoes.poll(Date.now() + 10_000)]);
    expect((await service.store.readStamp(story)).version).toBe(versionBefore + 1);
    expect(releasedCount()).toBe(1);
    expect(await (await get(`/v1/stories/${story}`)).json()).toMatchObject({ visibility: 'public' });
  });

  it('releases once when many nodes claim the same due embargo at once', async () => {
    const story = 'raced-embargo';
    await put(story, { title: 'Raced', status: 'live', embargoUntil: new Date(Date.now() + 60_000).toISOString() });
    const before = (await service.store.readStamp(story)).version;
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? other : service).store.releaseEmbargo(story, Date.now() + 61_000)));
    expect(outcomes.filter((o) => o === 'released')).toHaveLength(1);
    expect((await service.store.readStamp(story)).version).toBe(before + 1);
  });

  it('lifts an embargo with embargoUntil: null, and refuses visibility public with an embargo', async () => {
    const story = 'lifted-embargo';
    await put(story, { title: 'Lifted', status: 'live', embargoUntil: new Date(Date.now() + 60_000).toISOString() });
    expect((await put(story, { title: 'Lifted', status: 'live', visibility: 'public', embargoUntil: new Date(Date.now() + 60_000).toISOString() })).status).toBe(400);
    expect((await put(story, { title: 'Lifted', status: 'live', embargoUntil: null })).body).toMatchObject({ visibility: 'private', embargoUntil: null });
    expect((await put(story, { title: 'Lifted', status: 'live', embargoUntil: 'tomorrow' })).status).toBe(400);
  });
});
