import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { storyKeys } from '../../src/store/keys.js';
import { freePort } from '../support/child-service.js';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { keySlot } from '../support/redis-cluster.js';
import { startRedisServer, stopRedisServer } from '../support/redis-server.js';
import { post, startTestService, statement, uniquePrefix } from '../support/test-service.js';
import { waitUntil } from '../support/wait-until.js';

// A private Redis: these tests kill pub/sub connections and change maxclients, which must not touch other files' services.
const prefix = uniquePrefix('fan-in');
let redisServer: ChildProcess | undefined;
let redisUrl: string;
let admin: Redis;
let service: RunningService;

beforeAll(async () => {
  const port = await freePort();
  redisServer = await startRedisServer({ port });
  redisUrl = `redis://127.0.0.1:${port}`;
  admin = new Redis(redisUrl);
  service = await startTestService(prefix, { REDIS_URL: redisUrl });
});
afterAll(async () => {
  await service?.stop();
  admin?.disconnect();
  await stopRedisServer(redisServer);
});

/** Announcements on a story's channel, as a raw SSUBSCRIBE client sees them: `[previousId, id]`. */
async function listen(story: string): Promise<{ messages: [string, string][]; stop: () => void }> {
  const subscriber = new Redis(redisUrl);
  const messages: [string, string][] = [];
  subscriber.on('smessage', (_channel: string, payload: string) => {
    const [previousId, id] = payload.split(' ', 2) as [string, string];
    messages.push([previousId, id]);
  });
  await subscriber.ssubscribe(storyKeys(prefix, story).channel);
  return { messages, stop: () => subscriber.disconnect() };
}

describe('the append script', () => {
  it('names the story channel under the stream hash tag, so both live in one Cluster slot', () => {
    const keys = storyKeys(prefix, 'election-2026-ohio');
    expect(keys.channel).toContain('{election-2026-ohio}');
    expect(keySlot(keys.channel)).toBe(keySlot(keys.updates));
  });

  it('appends and announces in one atomic step: under concurrent writers every announcement names the entry stored just before it', async () => {
    const story = 'atomic';
    const { messages, stop } = await listen(story);
    await Promise.all(
      Array.from({ length: 8 }, async (_, writer) => {
        for (let i = 0; i < 40; i++) expect((await post(service.url, story, statement(`${writer}-${i}`))).status).toBe(201);
      }),
    );
    const stored = (await admin.xrange(storyKeys(prefix, story).updates, '-', '+')).map(([id]) => id);
    await waitUntil(() => messages.length === stored.length);
    stop();
    // In stream order, each announcement's previous id is the entry before it: had the XADD and the SPUBLISH been
    // two steps, concurrent appends would interleave between them and break this chain.
    expect(messages.map(([, id]) => id)).toEqual(stored);
    expect(messages.map(([previousId]) => previousId)).toEqual(['0-0', ...stored.slice(0, -1)]);
  });
});

describe('the fan-in', () => {
  it('never delivers past a gap: an entry stored without an announcement is read from the stream before the next one', async () => {
    const story = 'gap';
    const client = await LiveTestClient.connect(liveUrl(service.url));
    await client.subscribe(story);
    const first = (await post(service.url, story, statement('announced'))).body.id as string;
    // Stored as the append script stores it, but its announcement is lost (as pub/sub may lose one).
    const keys = storyKeys(prefix, story);
    const silent = (await admin.xadd(keys.updates, '*', 'k', 'statement', 'd', JSON.stringify(statement('silent'))))!;
    await admin.hset(keys.meta, 'lastId', silent);
    const third = (await post(service.url, story, statement('announced after the gap'))).body.id as string;
    await client.waitFor(() => client.updateIds(story).length === 3);
    expect(client.updateIds(story)).toEqual([first, silent, third]);
    client.close();
  });

  it('follows a story channel on Redis only while the node has a subscriber to the story', async () => {
    const story = 'followed';
    const channel = storyKeys(prefix, story).channel;
    const subscribers = async (): Promise<number> => ((await admin.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number])[1];
    expect(await subscribers()).toBe(0);
    const a = await LiveTestClient.connect(liveUrl(service.url));
    const b = await LiveTestClient.connect(liveUrl(service.url));
    await a.subscribe(story);
    await b.subscribe(story);
    expect(await subscribers()).toBe(1); // one channel subscription per node, however many sockets follow
    a.send({ type: 'unsubscribe', story });
    await a.waitFor(() => a.frames.some((f) => f.type === 'unsubscribed' && f.story === story));
    expect(await subscribers()).toBe(1);
    b.close();
    await waitUntil(async () => (await subscribers()) === 0);
    a.close();
  });

  it('reports not ready, naming the story, while its gap fills keep failing, then delivers the gap once one succeeds', async () => {
    // A node whose Redis user may not XRANGE: its gap fills fail for real until the ACL allows them again.
    const user = 'fan-in-no-xrange';
    await admin.call('ACL', 'SETUSER', user, 'on', '>fill-pass', '~*', '&*', '+@all', '-xrange');
    const url = new URL(redisUrl);
    url.username = user;
    url.password = 'fill-pass';
    const node = await startTestService(prefix, { REDIS_URL: url.toString() });
    try {
      const story = 'unfillable';
      const client = await LiveTestClient.connect(liveUrl(node.url));
      await client.subscribe(story);
      const first = (await post(node.url, story, statement('announced'))).body.id as string;
      await client.waitFor(() => client.updateIds(story).length === 1);
      const keys = storyKeys(prefix, story);
      const silent = (await admin.xadd(keys.updates, '*', 'k', 'statement', 'd', JSON.stringify(statement('silent'))))!;
      await admin.hset(keys.meta, 'lastId', silent);
      const third = (await post(node.url, story, statement('announced after the gap'))).body.id as string;

      let answer: Response | undefined;
      await waitUntil(async () => (answer = await fetch(`${node.url}/readyz`)).status === 503);
      const body = (await answer!.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('not_delivering');
      expect(body.error.message).toContain(`"${story}"`);
      // Nothing past the gap went out meanwhile.
      expect(client.updateIds(story)).toEqual([first]);

      await admin.call('ACL', 'SETUSER', user, '+xrange');
      await client.waitFor(() => client.updateIds(story).length === 3);
      expect(client.updateIds(story)).toEqual([first, silent, third]);
      expect((await fetch(`${node.url}/readyz`)).status).toBe(200);
      client.close();
    } finally {
      await node.stop();
      await admin.call('ACL', 'DELUSER', user);
    }
  });

  it('delivers every entry once, in order, while its pub/sub connections are killed mid-burst', async () => {
    const story = 'killed';
    const clients = await Promise.all([0, 1, 2].map(() => LiveTestClient.connect(liveUrl(service.url))));
    for (const client of clients) await client.subscribe(story);
    const ids: string[] = [];
    const fillsBefore = service.feed.gapFills;
    await Promise.all([
      ...Array.from({ length: 4 }, async (_, writer) => {
        for (let i = 0; i < 60; i++) ids.push((await post(service.url, story, statement(`${writer}-${i}`))).body.id as string);
      }),
      (async () => {
        for (let kill = 0; kill < 5; kill++) {
          await waitUntil(() => ids.length >= (kill + 1) * 40);
          // Each kill hits a live subscriber connection: the node's previous one is back by now.
          await waitUntil(async () => String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')).includes('ssub=1'));
          expect(Number(await admin.client('KILL', 'TYPE', 'pubsub'))).toBe(1);
        }
      })(),
    ]);
    const stored = (await admin.xrange(storyKeys(prefix, story).updates, '-', '+')).map(([id]) => id);
    expect(stored).toHaveLength(240);
    for (const client of clients) {
      await client.waitFor(() => client.updateIds(story).length >= 240);
      expect(client.updateIds(story)).toEqual(stored);
      client.close();
    }
    // Each reconnect was followed by a fill from the stream: what was announced while it was down got through there.
    expect(service.feed.gapFills - fillsBefore).toBeGreaterThan(0);
  });
});
