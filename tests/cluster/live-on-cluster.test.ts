import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { storyKeys } from '../../src/store/keys.js';
import { startChildService, type ChildService } from '../support/child-service.js';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { keySlot, startRedisCluster, storiesCoveringMasters, type RunningRedisCluster } from '../support/redis-cluster.js';
import { post, startTestService, statement, uniquePrefix } from '../support/test-service.js';

// One real cluster for the file: 3 masters, each with a replica (for the failover test).
const prefix = uniquePrefix('cluster');
let cluster: RunningRedisCluster;
let admin: Cluster;
let nodeA: RunningService;
let nodeB: ChildService;
let stories: string[];

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  const env = { REDIS_URL: undefined, REDIS_CLUSTER_NODES: cluster.seeds };
  nodeA = await startTestService(prefix, env);
  nodeB = await startChildService(prefix, env);
  admin = new Cluster(cluster.startupNodes);
  // One story served by each master: every test below crosses all three shards.
  stories = storiesCoveringMasters(cluster, 'story', 1);
}, 60_000);
afterAll(async () => {
  nodeB?.process.kill('SIGKILL');
  await nodeB?.exited;
  await nodeA?.stop();
  admin?.disconnect();
  await cluster?.stop();
});

async function streamIds(story: string): Promise<string[]> {
  return (await admin.xrange(storyKeys(prefix, story).updates, '-', '+')).map(([id]) => id);
}

/** Publishes through `url` until it is stored, reusing one Idempotency-Key: a client retrying a 503 the documented way. */
async function publishStored(url: string, story: string, text: string): Promise<string> {
  const key = `${story}-${text}`.replace(/\s/g, '-');
  for (let attempt = 0; attempt < 100; attempt++) {
    const answer = await post(url, story, statement(text), { 'idempotency-key': key });
    if (answer.status === 201 || answer.status === 200) return answer.body.id as string;
    expect(answer.status).toBe(503);
  }
  throw new Error(`could not publish ${text}`);
}

describe('Stoppress on a Redis Cluster', () => {
  it('puts a story, its channel and the three masters in order: one slot per story, stories on every master', () => {
    expect(new Set(stories.map((story) => cluster.masterFor(`{${story}}`).port)).size).toBe(3);
    for (const story of stories) {
      const keys = storyKeys(prefix, story);
      expect(keySlot(keys.channel)).toBe(keySlot(keys.updates));
      expect(keySlot(keys.meta)).toBe(keySlot(keys.updates));
    }
  });

  it('ingests, lists and reads stories on every master', async () => {
    for (const story of stories) {
      expect((await post(nodeA.url, story, statement(`hello from ${story}`))).status).toBe(201);
      expect((await fetch(`${nodeA.url}/v1/stories/${story}`)).status).toBe(200);
    }
    const listed = (await (await fetch(`${nodeB.url}/v1/stories`)).json()) as { stories: { story: string }[] };
    expect(listed.stories.map((s) => s.story)).toEqual(expect.arrayContaining(stories));
  });

  it('hands off backlog to live with no gap and no duplicate while every story is published at full speed, on both nodes', async () => {
    const total = 150;
    let published = 0;
    const writer = async (url: string): Promise<void> => {
      while (published < total * stories.length) {
        const n = published++;
        expect((await post(url, stories[n % stories.length]!, statement(`live ${n}`))).status).toBe(201);
      }
    };
    const publishing = Promise.all([writer(nodeA.url), writer(nodeB.url), writer(nodeA.url), writer(nodeB.url)]);

    const clients: { client: LiveTestClient; since: string | undefined; lastIds: Map<string, string | null> }[] = [];
    while (published < total * stories.length && clients.length < 8) {
      const node = clients.length % 2 === 0 ? nodeA.url : nodeB.url;
      const client = await LiveTestClient.connect(liveUrl(node));
      const since = clients.length % 4 < 2 ? '0-0' : undefined;
      const lastIds = new Map<string, string | null>();
      for (const story of stories) lastIds.set(story, (await client.subscribe(story, since)).lastId ?? null);
      clients.push({ client, since, lastIds });
    }
    await publishing;
    expect(clients.length).toBeGreaterThan(2);

    for (const story of stories) {
      const all = await streamIds(story);
      for (const { client, since, lastIds } of clients) {
        await client.waitFor(() => client.updateIds(story).at(-1) === all.at(-1));
        const lastId = lastIds.get(story) ?? null;
        const expected = since === '0-0' ? all : all.slice(lastId === null ? 0 : all.indexOf(lastId) + 1);
        expect(client.updateIds(story)).toEqual(expected);
      }
    }
    for (const { client } of clients) client.close();
  }, 60_000);

  it('resumes on the other node with since: exactly what was missed, then live', async () => {
    const story = stories[1]!;
    const first = await LiveTestClient.connect(liveUrl(nodeA.url));
    await first.subscribe(story);
    const seen = await publishStored(nodeA.url, story, 'seen');
    await first.waitFor(() => first.updateIds(story).includes(seen));
    first.close();
    const missed = [await publishStored(nodeB.url, story, 'missed 1'), await publishStored(nodeA.url, story, 'missed 2')];
    const second = await LiveTestClient.connect(liveUrl(nodeB.url));
    expect(await second.subscribe(story, seen)).toMatchObject({ type: 'subscribed', recovered: true });
    const after = await publishStored(nodeA.url, story, 'after');
    await second.waitFor(() => second.updateIds(story).length === 3);
    expect(second.updateIds(story)).toEqual([...missed, after]);
    second.close();
  });

  it('loses and doubles nothing when the masters kill every pub/sub connection mid-burst, filling the gaps from the streams', async () => {
    const clients = await Promise.all([nodeA.url, nodeA.url, nodeB.url].map((url) => LiveTestClient.connect(liveUrl(url))));
    for (const client of clients) for (const story of stories) await client.subscribe(story);
    const starts = new Map<string, string | null>();
    for (const story of stories) starts.set(story, (await streamIds(story)).at(-1) ?? null);
    const fillsBefore = nodeA.feed.gapFills;

    let published = 0;
    const writer = async (url: string): Promise<void> => {
      while (published < 300) {
        const n = published++;
        expect((await post(url, stories[n % stories.length]!, statement(`burst ${n}`))).status).toBe(201);
      }
    };
    const killer = async (): Promise<void> => {
      for (const at of [60, 150, 240]) {
        while (published < at) await new Promise((resolve) => setImmediate(resolve));
        const killed = await cluster.clientKill({ type: 'pubsub' });
        expect([...killed.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      }
    };
    await Promise.all([writer(nodeA.url), writer(nodeB.url), writer(nodeA.url), killer()]);

    for (const story of stories) {
      const all = await streamIds(story);
      const start = starts.get(story) ?? null;
      const expected = start === null ? all : all.slice(all.indexOf(start) + 1);
      for (const client of clients) {
        await client.waitFor(() => client.updateIds(story).at(-1) === all.at(-1));
        expect(client.updateIds(story)).toEqual(expected);
      }
    }
    expect(nodeA.feed.gapFills).toBeGreaterThan(fillsBefore);
    for (const client of clients) client.close();
  }, 60_000);

  it('delivers every publish that got its 201, once and in order, across a manual failover mid-publish', async () => {
    const story = stories[0]!;
    const master = cluster.masterFor(`{${story}}`);
    const replica = cluster.replicaOf(master.port);
    const clients = await Promise.all([nodeA.url, nodeB.url].map((url) => LiveTestClient.connect(liveUrl(url))));
    for (const client of clients) await client.subscribe(story);
    const before = (await streamIds(story)).at(-1);

    const acknowledged: string[] = [];
    let publishing = true;
    const writer = async (url: string, name: string): Promise<void> => {
      for (let i = 0; publishing || i < 20; i++) acknowledged.push(await publishStored(url, story, `${name} ${i}`));
    };
    const writers = Promise.all([writer(nodeA.url, 'a'), writer(nodeB.url, 'b')]);
    while (acknowledged.length < 20) await new Promise((resolve) => setImmediate(resolve));
    const promoted = await cluster.failover(replica.port);
    expect(promoted.port).toBe(replica.port);
    const atFailover = acknowledged.length;
    // Keep publishing after the failover until the new master has taken a few.
    while (acknowledged.length < atFailover + 20) await new Promise((resolve) => setImmediate(resolve));
    publishing = false;
    await writers;

    const all = await streamIds(story);
    expect(all).toEqual(expect.arrayContaining(acknowledged));
    const expected = all.slice(all.indexOf(before!) + 1);
    for (const client of clients) {
      await client.waitFor(() => client.updateIds(story).at(-1) === all.at(-1), 15_000);
      expect(client.updateIds(story)).toEqual(expected);
      client.close();
    }
  }, 60_000);
});
