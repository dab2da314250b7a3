import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { deletePrefix, post, redisUrl, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('live-handoff');
let service: RunningService;
let redis: Redis;

beforeAll(async () => {
  service = await startTestService(prefix);
  redis = new Redis(redisUrl);
});
afterAll(async () => {
  await service.stop();
  await deletePrefix(prefix);
  redis.disconnect();
});

async function streamIds(story: string): Promise<string[]> {
  return (await redis.xrange(`${prefix}story:{${story}}:updates`, '-', '+')).map(([id]) => id);
}

describe('backlog-then-live handoff', () => {
  it('delivers every entry once and in order to clients that subscribe while the story is published to at full speed', async () => {
    const story = 'race';
    const total = 400;
    for (let i = 0; i < 20; i++) expect((await post(service.url, story, statement(`before ${i}`))).status).toBe(201);

    // Publisher: 4 concurrent writers, as fast as the service takes them.
    let published = 0;
    const writer = async (): Promise<void> => {
      while (published < total) {
        published += 1;
        expect((await post(service.url, story, statement(`live ${published}`))).status).toBe(201);
      }
    };
    const publishing = Promise.all([writer(), writer(), writer(), writer()]);

    // Subscribers join while the publisher runs: half replay the whole history, half start live from "now".
    const clients: { client: LiveTestClient; since: string | undefined; lastIdAtSubscribe: string | null }[] = [];
    while (published < total && clients.length < 12) {
      const client = await LiveTestClient.connect(liveUrl(service.url));
      const since = clients.length % 2 === 0 ? '0-0' : undefined;
      const subscribed = await client.subscribe(story, since);
      expect(subscribed.type).toBe('subscribed');
      clients.push({ client, since, lastIdAtSubscribe: subscribed.lastId ?? null });
    }
    await publishing;
    expect(clients.length).toBeGreaterThan(4);

    const all = await streamIds(story);
    expect(all).toHaveLength(20 + total);
    const last = all.at(-1)!;
    for (const { client, since, lastIdAtSubscribe } of clients) {
      await client.waitFor(() => client.updateIds(story).at(-1) === last);
      const got = client.updateIds(story);
      const expected = since === '0-0' ? all : all.slice(all.indexOf(lastIdAtSubscribe!) + 1);
      expect(got).toEqual(expected);
      client.close();
    }
  });

  it('sends subscribed before any update of that subscription', async () => {
    const story = 'order';
    await post(service.url, story, statement('one'));
    const client = await LiveTestClient.connect(liveUrl(service.url));
    await client.subscribe(story, '0-0');
    await client.waitFor(() => client.updateIds(story).length === 1);
    expect(client.frames.map((f) => f.type)).toEqual(['subscribed', 'update']);
    client.close();
  });
});

describe('resume', () => {
  it('gives a client that reconnects with since = the last id it saw exactly what it missed', async () => {
    const story = 'resume';
    const first = await LiveTestClient.connect(liveUrl(service.url));
    await first.subscribe(story);
    for (let i = 0; i < 5; i++) await post(service.url, story, statement(`seen ${i}`));
    await first.waitFor(() => first.updateIds(story).length === 5);
    const lastSeen = first.updateIds(story).at(-1)!;
    first.close();
    await first.closed;

    const missed: string[] = [];
    for (let i = 0; i < 7; i++) missed.push((await post(service.url, story, statement(`missed ${i}`))).body.id);

    const second = await LiveTestClient.connect(liveUrl(service.url));
    const subscribed = await second.subscribe(story, lastSeen);
    expect(subscribed).toMatchObject({ type: 'subscribed', recovered: true, lastId: missed.at(-1) });
    await second.waitFor(() => second.updateIds(story).length === 7);
    const after = (await post(service.url, story, statement('after resume'))).body.id;
    await second.waitFor(() => second.updateIds(story).length === 8);
    expect(second.updateIds(story)).toEqual([...missed, after]);
    second.close();
  });

  it('carries corrections in the stream like any other entry', async () => {
    const story = 'resume-correction';
    const original = (await post(service.url, story, statement('exercises end on 20 January'))).body.id;
    const client = await LiveTestClient.connect(liveUrl(service.url));
    await client.subscribe(story, original);
    const correction = await post(service.url, story, { kind: 'correction', corrects: original, text: 'exercises end on 20 February', note: 'Date fixed.' });
    await client.waitFor(() => client.updateIds(story).length === 1);
    const frame = client.frames.find((f) => f.type === 'update')!;
    expect(frame.update).toMatchObject({ id: correction.body.id, kind: 'correction', corrects: original, text: 'exercises end on 20 February' });
    client.close();
  });
});
