import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connect, type LiveClientError, type Update } from '../../src/client/index.js';
import type { RunningService } from '../../src/service.js';
import { deletePrefix, post, publisherKey, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('client-tokens');
let service: RunningService;

beforeAll(async () => {
  service = await startTestService(prefix, { SUBSCRIBER_TOKEN_SECRET: 'a-subscriber-token-secret-of-32-bytes-or-more' });
});
afterAll(async () => {
  await service.stop();
  await deletePrefix(prefix);
});

/** What a partner's server does: mints a short-lived token for the stories it shows. */
async function mint(stories: string[], ttlSeconds: number): Promise<string> {
  const response = await fetch(`${service.url}/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}` },
    body: JSON.stringify({ sub: 'partner-test', stories, ttlSeconds }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { token: string }).token;
}

describe('the client library on a private story', () => {
  it('sends its token before subscribing and refreshes it before expiry: every update arrives once, in order, across several token lifetimes', async () => {
    const story = 'private-follow';
    const put = await fetch(`${service.url}/v1/stories/${story}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}` },
      body: JSON.stringify({ title: 'Private', status: 'live', visibility: 'private' }),
    });
    expect(put.status).toBe(200);

    let minted = 0;
    const received: Update[] = [];
    const errors: LiveClientError[] = [];
    const live = connect(service.url, {
      WebSocket,
      // Two-second tokens: the client must refresh them over and over without losing the subscription.
      token: async () => {
        minted += 1;
        return mint([story], 2);
      },
      onError: (error) => errors.push(error),
    });
    let resolveLive!: () => void;
    const isLive = new Promise<void>((resolve) => (resolveLive = resolve));
    live.follow(story, { since: '0-0' }, { update: (update) => received.push(update), status: (status) => status === 'live' && resolveLive() });
    await isLive;

    const ids: string[] = [];
    const started = Date.now();
    while (Date.now() - started < 4_500) {
      ids.push((await post(service.url, story, statement(`at ${Date.now() - started} ms`))).body.id as string);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const deadline = Date.now() + 5_000;
    while (received.length < ids.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    live.close();

    expect(received.map((u) => u.id)).toEqual(ids);
    expect(errors).toEqual([]);
    // The first token, and at least one refresh per two seconds of following.
    expect(minted).toBeGreaterThanOrEqual(3);
  }, 20_000);
});
