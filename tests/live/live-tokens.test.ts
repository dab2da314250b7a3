import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { deletePrefix, post, publisherKey, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const secret = 'live-tokens-test-secret-0123456789abcdef01';
const prefix = uniquePrefix('live-tokens');
let service: RunningService;
const story = 'live-private';
const publicStory = 'live-public';

beforeAll(async () => {
  service = await startTestService(prefix, { SUBSCRIBER_TOKEN_SECRET: secret });
  await fetch(`${service.url}/v1/stories/${story}`, { method: 'PUT', headers: { authorization: `Bearer ${publisherKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'P', status: 'live', visibility: 'private' }) });
});
afterAll(async () => {
  await service?.stop();
  await deletePrefix(prefix);
});

const sign = (claims: Record<string, unknown>) =>
  new SignJWT({ sub: 'p', exp: Math.floor(Date.now() / 1000) + 300, ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));

describe('/v1/live and private stories', () => {
  it('answers token_required, token_invalid, token_expired and forbidden as error frames, and the socket stays open', async () => {
    const client = await LiveTestClient.connect(liveUrl(service.url));
    expect(await client.subscribe(story)).toMatchObject({ type: 'error', code: 'token_required', story });
    client.send({ type: 'subscribe', story, token: 'not.a.token' });
    await client.waitFor(() => client.frames.some((f) => f.code === 'token_invalid'));
    client.send({ type: 'subscribe', story, token: new UnsecuredJWT({ sub: 'p', exp: Math.floor(Date.now() / 1000) + 60, stories: ['*'] }).encode() });
    await client.waitFor(() => client.frames.filter((f) => f.code === 'token_invalid').length === 2);
    client.send({ type: 'subscribe', story, token: await sign({ stories: ['*'], exp: Math.floor(Date.now() / 1000) - 5 }) });
    await client.waitFor(() => client.frames.some((f) => f.code === 'token_expired'));
    client.send({ type: 'subscribe', story, token: await sign({ stories: ['other-*'] }) });
    await client.waitFor(() => client.frames.some((f) => f.code === 'forbidden'));
    expect(client.frames.filter((f) => f.type === 'update')).toEqual([]);
    expect(await client.subscribe(publicStory)).toMatchObject({ type: 'subscribed' });
    client.close();
  });

  it('follows a private story with a token on the subscribe frame, or with an auth frame covering later subscribes', async () => {
    const withField = await LiveTestClient.connect(liveUrl(service.url));
    expect(await withField.subscribe(story, undefined)).toMatchObject({ code: 'token_required' });
    withField.send({ type: 'subscribe', story, since: '0-0', token: await sign({ stories: [story] }) });
    const authed = await LiveTestClient.connect(liveUrl(service.url));
    authed.send({ type: 'auth', token: await sign({ stories: ['live-*'] }) });
    await authed.waitFor(() => authed.frames.some((f) => f.type === 'authenticated'));
    expect(await authed.subscribe(story, '0-0')).toMatchObject({ type: 'subscribed' });
    await withField.waitFor(() => withField.frames.some((f) => f.type === 'subscribed'));
    const id = (await post(service.url, story, statement('for subscribers'))).body.id;
    for (const client of [withField, authed]) {
      await client.waitFor(() => client.updateIds(story).includes(id));
      client.close();
    }
  });

  it('ends the private subscriptions of an expired token with token_expired, unless a new auth frame extended them first', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const expiring = await LiveTestClient.connect(liveUrl(service.url));
    expiring.send({ type: 'auth', token: await sign({ stories: ['*'], exp }) });
    expect(await expiring.subscribe(story)).toMatchObject({ type: 'subscribed' });
    expect(await expiring.subscribe(publicStory)).toMatchObject({ type: 'subscribed' });
    const refreshed = await LiveTestClient.connect(liveUrl(service.url));
    refreshed.send({ type: 'auth', token: await sign({ stories: ['*'], exp }) });
    expect(await refreshed.subscribe(story)).toMatchObject({ type: 'subscribed' });
    refreshed.send({ type: 'auth', token: await sign({ stories: [story] }) });
    await refreshed.waitFor(() => refreshed.frames.filter((f) => f.type === 'authenticated').length === 2);

    await expiring.waitFor(() => expiring.frames.some((f) => f.code === 'token_expired'), 6_000);
    expect(expiring.frames.find((f) => f.code === 'token_expired')).toMatchObject({ type: 'error', story });
    const id = (await post(service.url, story, statement('after expiry'))).body.id;
    const publicId = (await post(service.url, publicStory, statement('public after expiry'))).body.id;
    await refreshed.waitFor(() => refreshed.updateIds(story).includes(id));
    await expiring.waitFor(() => expiring.updateIds(publicStory).includes(publicId));
    expect(expiring.updateIds(story)).not.toContain(id);
    expect(refreshed.frames.some((f) => f.code === 'token_expired')).toBe(false);
    expiring.close();
    refreshed.close();
  });

  it('ends the subscriptions of sockets without a covering token when a public story turns private; a covering token keeps it', async () => {
    const turning = 'live-turning';
    const put = (body: Record<string, unknown>) =>
      fetch(`${service.url}/v1/stories/${turning}`, { method: 'PUT', headers: { authorization: `Bearer ${publisherKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await put({ title: 'Open for now', status: 'live' })).status).toBe(200);
    const anonymous = await LiveTestClient.connect(liveUrl(service.url));
    const covered = await LiveTestClient.connect(liveUrl(service.url));
    covered.send({ type: 'auth', token: await sign({ stories: ['live-*'] }) });
    await covered.waitFor(() => covered.frames.some((f) => f.type === 'authenticated'));
    for (const client of [anonymous, covered]) expect(await client.subscribe(turning)).toMatchObject({ type: 'subscribed' });
    const before = (await post(service.url, turning, statement('public'))).body.id as string;
    for (const client of [anonymous, covered]) await client.waitFor(() => client.updateIds(turning).includes(before));

    expect((await put({ title: 'Private now', status: 'live', visibility: 'private' })).status).toBe(200);
    await anonymous.waitFor(() => anonymous.frames.some((f) => f.type === 'error' && f.code === 'token_required' && f.story === turning));
    const after = (await post(service.url, turning, statement('for token holders'))).body.id as string;
    await covered.waitFor(() => covered.updateIds(turning).includes(after));
    // Published after the anonymous socket's error frame and delivered to the covered one: it reached no one else.
    expect(anonymous.updateIds(turning)).toEqual([before]);
    expect(service.hub.subscriberCount(turning)).toBe(1);
    anonymous.close();
    covered.close();
  });
});
