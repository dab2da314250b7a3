import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { RunningService } from '../../src/service.js';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { deletePrefix, post, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('live-protocol');
let service: RunningService;

beforeAll(async () => {
  service = await startTestService(prefix, { WS_MAX_SUBSCRIPTIONS: '3', WS_SUBSCRIBE_BURST: '50', ALLOWED_ORIGINS: 'https://partner.example' });
});
afterAll(async () => {
  await service.stop();
  await deletePrefix(prefix);
});

describe('one socket, many stories', () => {
  it('multiplexes stories on one socket and stops a story after unsubscribe', async () => {
    const client = await LiveTestClient.connect(liveUrl(service.url));
    await client.subscribe('multi-a');
    await client.subscribe('multi-b');
    const a1 = (await post(service.url, 'multi-a', statement('a1'))).body.id;
    const b1 = (await post(service.url, 'multi-b', statement('b1'))).body.id;
    await client.waitFor(() => client.updateIds('multi-a').length === 1 && client.updateIds('multi-b').length === 1);
    expect(client.updateIds('multi-a')).toEqual([a1]);
    expect(client.updateIds('multi-b')).toEqual([b1]);

    client.send({ type: 'unsubscribe', story: 'multi-a' });
    await client.waitFor(() => client.frames.some((f) => f.type === 'unsubscribed' && f.story === 'multi-a'));
    await post(service.url, 'multi-a', statement('a2 (not wanted)'));
    const b2 = (await post(service.url, 'multi-b', statement('b2'))).body.id;
    await client.waitFor(() => client.updateIds('multi-b').length === 2);
    // b2 was published after a2 and arrived, so a2 would have arrived before it had the unsubscribe not worked.
    expect(client.updateIds('multi-a')).toEqual([a1]);
    expect(client.updateIds('multi-b')).toEqual([b1, b2]);
    expect(service.hub.subscriberCount('multi-a')).toBe(0);
    client.close();
  });

  it('refuses a subscription past the per-socket limit with an error frame and keeps the socket', async () => {
    const client = await LiveTestClient.connect(liveUrl(service.url));
    for (const story of ['lim-1', 'lim-2', 'lim-3']) expect((await client.subscribe(story)).type).toBe('subscribed');
    expect(await client.subscribe('lim-4')).toMatchObject({ type: 'error', code: 'subscription_limit', story: 'lim-4' });
    const id = (await post(service.url, 'lim-1', statement('still open'))).body.id;
    await client.waitFor(() => client.updateIds('lim-1').length === 1);
    expect(client.updateIds('lim-1')).toEqual([id]);
    client.close();
  });
});

describe('bad frames', () => {
  it('answers each bad frame with an error frame naming the problem and keeps the socket open', async () => {
    const client = await LiveTestClient.connect(liveUrl(service.url));
    const cases: [unknown, string][] = [
      ['not json', 'bad_frame'],
      [{ type: 'dance', story: 'x' }, 'bad_frame'],
      [{ type: 'subscribe', story: 'Bad Story!' }, 'invalid_story_id'],
      [{ type: 'subscribe', story: 'ok', since: 'yesterday' }, 'invalid_update_id'],
      [{ type: 'subscribe', story: 'ok', extra: 1 }, 'bad_frame'],
      [[1, 2], 'bad_frame'],
      [{ type: 'unsubscribe', story: 'never-followed' }, 'not_subscribed'],
    ];
    for (const [frame, code] of cases) {
      const before = client.frames.length;
      client.send(frame);
      await client.waitFor(() => client.frames.length > before);
      expect(client.frames[before]).toMatchObject({ type: 'error', code });
      expect(client.frames[before]!.message).toBeTruthy();
    }
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    expect((await client.subscribe('after-bad-frames')).type).toBe('subscribed');
    client.close();
  });

  it.each([
    ['18446744073709551616-0', /over 18446744073709551615/],
    ['99999999999999999999-0', /over 18446744073709551615/],
    ['00-0', /leading zeros/],
  ])('refuses since=%s with invalid_update_id naming the story and why, before any subscribed frame', async (since, why) => {
    const client = await LiveTestClient.connect(liveUrl(service.url));
    client.send({ type: 'subscribe', story: 'edge-ids', since });
    await client.waitFor(() => client.frames.length > 0);
    expect(client.frames[0]).toMatchObject({ type: 'error', code: 'invalid_update_id', story: 'edge-ids', message: expect.stringMatching(why) });
    // The socket still works, and no subscription was left behind.
    expect((await client.subscribe('edge-ids-after')).type).toBe('subscribed');
    expect(client.frames.filter((f) => f.type === 'subscribed' && f.story === 'edge-ids')).toEqual([]);
    client.close();
  });

  it('subscribes with since= the largest id and sends no backlog and no error', async () => {
    const story = 'largest-since';
    await post(service.url, story, statement('before'));
    const client = await LiveTestClient.connect(liveUrl(service.url));
    const subscribed = await client.subscribe(story, '18446744073709551615-18446744073709551615');
    expect(subscribed).toMatchObject({ type: 'subscribed', story });
    // A second subscription's answer comes after anything the first one sends from its (empty) backlog read.
    expect((await client.subscribe('largest-since-probe', '0-0')).type).toBe('subscribed');
    expect(client.frames.filter((f) => f.type === 'error' || (f.type === 'update' && f.story === story))).toEqual([]);
    client.close();
  });

  it('closes a client that keeps sending bad frames with 1008', async () => {
    const client = await LiveTestClient.connect(liveUrl(service.url));
    for (let i = 0; i < 25; i++) client.send('garbage');
    expect((await client.closed).code).toBe(1008);
  });

  it('closes a socket that sends a frame over the size limit with 1009', async () => {
    const client = await LiveTestClient.connect(liveUrl(service.url));
    client.send({ type: 'subscribe', story: 'x', padding: 'x'.repeat(5000) });
    expect((await client.closed).code).toBe(1009);
  });
});

describe('trimmed history', () => {
  it('answers recovered:false when since is older than the oldest retained entry, then goes live', async () => {
    const trimmed = await startTestService(uniquePrefix('live-trim'), { STREAM_MAXLEN: '10' });
    try {
      const story = 'trimmed';
      const first = (await post(trimmed.url, story, statement('first'))).body.id;
      // XADD MAXLEN ~ trims whole stream nodes (100 entries each), so write well past one node.
      for (let i = 0; i < 250; i++) await post(trimmed.url, story, statement(`filler ${i}`));
      const client = await LiveTestClient.connect(liveUrl(trimmed.url));
      const subscribed = await client.subscribe(story, first);
      expect(subscribed).toMatchObject({ type: 'subscribed', recovered: false });
      const next = (await post(trimmed.url, story, statement('after'))).body.id;
      await client.waitFor(() => client.updateIds(story).length === 1);
      expect(client.updateIds(story)).toEqual([next]);

      const whole = await LiveTestClient.connect(liveUrl(trimmed.url));
      expect(await whole.subscribe(story, '0-0')).toMatchObject({ recovered: true });
      client.close();
      whole.close();
    } finally {
      await trimmed.stop();
    }
  });
});

describe('upgrade checks', () => {
  it('refuses a disallowed Origin with 403 before the upgrade and accepts an allowed one', async () => {
    await expect(LiveTestClient.connect(liveUrl(service.url), { origin: 'https://evil.example' })).rejects.toThrow('403');
    const allowed = await LiveTestClient.connect(liveUrl(service.url), { origin: 'https://partner.example' });
    expect((await allowed.subscribe('origin-ok')).type).toBe('subscribed');
    allowed.close();
  });

  it('answers 404 for another path', async () => {
    await expect(LiveTestClient.connect(`${liveUrl(service.url)}/nope`)).rejects.toThrow('404');
  });
});
