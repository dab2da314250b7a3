import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { SseTestClient } from '../support/sse-client.js';
import { deletePrefix, post, publisherKey, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const secret = 'sse-test-secret-0123456789abcdef0123456789';
const prefix = uniquePrefix('sse');
let service: RunningService;

beforeAll(async () => {
  service = await startTestService(prefix, { SUBSCRIBER_TOKEN_SECRET: secret, SSE_HEARTBEAT_MS: '1000' });
});
afterAll(async () => {
  await service?.stop();
  await deletePrefix(prefix);
});

const events = (story: string, query = '') => `${service.url}/v1/stories/${story}/events${query}`;
const sign = (claims: Record<string, unknown>) =>
  new SignJWT({ sub: 'p', exp: Math.floor(Date.now() / 1000) + 300, ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));

async function postMany(story: string, count: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await post(service.url, story, statement(`${label} ${i}`))).body.id);
  return ids;
}

describe('Server-Sent Events', () => {
  it('streams updates live from now as `update` events with the stream id and the update JSON', async () => {
    const story = 'sse-live';
    await postMany(story, 2, 'before');
    const client = await SseTestClient.open(events(story));
    expect(client.response.status).toBe(200);
    expect(client.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(client.response.headers.get('cache-control')).toBe('no-cache');
    // Live from now: from the `subscribed` comment on.
    await client.waitFor(() => client.events.some((e) => e.comment === 'subscribed'));
    const ids = await postMany(story, 3, 'live');
    await client.waitFor(() => client.updateIds().length === 3);
    expect(client.updateIds()).toEqual(ids);
    const first = JSON.parse(client.events.find((e) => e.event === 'update')!.data);
    expect(first).toMatchObject({ id: ids[0], story, kind: 'statement', text: 'live 0' });
    client.close();
  });

  it('resumes exactly after Last-Event-ID (header or query), and 0-0 replays the retained history', async () => {
    const story = 'sse-resume';
    const ids = await postMany(story, 30, 'entry');
    const byHeader = await SseTestClient.open(events(story), { 'last-event-id': ids[9]! });
    const byQuery = await SseTestClient.open(events(story, `?lastEventId=${ids[19]}`));
    const whole = await SseTestClient.open(events(story, '?lastEventId=0-0'));
    await byHeader.waitFor(() => byHeader.updateIds().length === 20);
    await byQuery.waitFor(() => byQuery.updateIds().length === 10);
    await whole.waitFor(() => whole.updateIds().length === 30);
    const more = await postMany(story, 5, 'more');
    for (const [client, expected] of [[byHeader, [...ids.slice(10), ...more]], [byQuery, [...ids.slice(20), ...more]], [whole, [...ids, ...more]]] as const) {
      await client.waitFor(() => client.updateIds().length === expected.length);
      expect(client.updateIds()).toEqual(expected);
      client.close();
    }
  });

  it('delivers a burst exactly once across a reconnect mid-burst with Last-Event-ID', async () => {
    const story = 'sse-burst';
    const first = await SseTestClient.open(events(story, '?lastEventId=0-0'));
    await first.waitFor(() => first.events.some((e) => e.comment === 'subscribed'));
    const burst = Promise.all(Array.from({ length: 200 }, (_, i) => post(service.url, story, statement(`burst ${i}`)).then((r) => r.body.id as string)));
    await first.waitFor(() => first.updateIds().length >= 20);
    first.close();
    const resumeAt = first.updateIds().at(-1)!;
    const second = await SseTestClient.open(events(story), { 'last-event-id': resumeAt });
    const posted = (await burst).sort((a, b) => (BigInt(a.split('-')[0]!) - BigInt(b.split('-')[0]!) || Number(a.split('-')[1]) - Number(b.split('-')[1])) > 0 ? 1 : -1);
    await second.waitFor(() => first.updateIds().length + second.updateIds().length >= 200);
    const seen = [...first.updateIds(), ...second.updateIds()];
    expect(seen).toEqual(posted);
    second.close();
  });

  it('sends a reset event when Last-Event-ID is older than the retained history', async () => {
    const trimmed = await startTestService(uniquePrefix('sse-trim'), { STREAM_MAXLEN: '10' });
    try {
      const story = 'sse-trimmed';
      const old = (await post(trimmed.url, story, statement('first'))).body.id;
      for (let i = 0; i < 250; i++) await post(trimmed.url, story, statement(`filler ${i}`));
      const client = await SseTestClient.open(`${trimmed.url}/v1/stories/${story}/events`, { 'last-event-id': old });
      await client.waitFor(() => client.events.some((e) => e.event === 'reset'));
      const reset = client.events.find((e) => e.event === 'reset')!;
      expect(JSON.parse(reset.data)).toMatchObject({ story, recovered: false });
      expect(reset.id).toBe(JSON.parse(reset.data).lastId);
      const next = (await post(trimmed.url, story, statement('after'))).body.id;
      await client.waitFor(() => client.updateIds().length === 1);
      expect(client.updateIds()).toEqual([next]);
      client.close();
    } finally {
      await trimmed.stop();
    }
  });

  it('sends a heartbeat comment on an idle stream', async () => {
    const client = await SseTestClient.open(events('sse-idle'));
    await client.waitFor(() => client.events.some((e) => e.comment === 'heartbeat'), 5_000);
    client.close();
  });

  it('needs a covering token for a private story (query parameter for EventSource), ends the stream when it expires, and refuses a bad Last-Event-ID', async () => {
    const story = 'sse-private';
    await fetch(`${service.url}/v1/stories/${story}`, { method: 'PUT', headers: { authorization: `Bearer ${publisherKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'P', status: 'live', visibility: 'private' }) });
    const id = (await post(service.url, story, statement('private'))).body.id;
    expect((await fetch(events(story))).status).toBe(404);
    expect((await fetch(events(story, '?token=bad'))).status).toBe(401);
    expect((await fetch(events(story, `?token=${await sign({ stories: ['other'] })}`))).status).toBe(404);
    const shortLived = await sign({ stories: [story], exp: Math.floor(Date.now() / 1000) + 2 });
    const client = await SseTestClient.open(events(story, `?token=${shortLived}&lastEventId=0-0`));
    expect(client.response.headers.get('cache-control')).toBe('private, no-store');
    await client.waitFor(() => client.updateIds().length === 1);
    expect(client.updateIds()).toEqual([id]);
    await client.ended;
    expect(JSON.parse(client.events.at(-1)!.data)).toMatchObject({ code: 'token_expired' });
    const bad = await fetch(events(story, '?lastEventId=nope'));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_update_id');
  });
});
