import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { deletePrefix, post, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('live-limits');
let service: RunningService;

beforeAll(async () => {
  service = await startTestService(prefix, { WS_MAX_SUBSCRIPTIONS: '10', WS_SUBSCRIBE_RATE: '2', MAX_ACTIVE_STORIES: '12' });
});
afterAll(async () => {
  await service.stop();
  await deletePrefix(prefix);
});

const errors = (client: LiveTestClient, code: string) => client.frames.filter((f) => f.type === 'error' && f.code === code);

describe('subscription churn', () => {
  it('lets a reconnecting client resubscribe a full burst, then refuses churn past the rate with rate_limited', async () => {
    const client = await LiveTestClient.connect(liveUrl(service.url));
    // The burst defaults to WS_MAX_SUBSCRIPTIONS: ten subscribes at once all pass.
    for (let i = 0; i < 10; i++) client.send({ type: 'subscribe', story: `burst-${i}` });
    await client.waitFor(() => client.frames.filter((f) => f.type === 'subscribed').length === 10);
    expect(errors(client, 'rate_limited')).toEqual([]);

    client.send({ type: 'unsubscribe', story: 'burst-0' });
    await client.waitFor(() => client.frames.some((f) => f.type === 'error' && f.code === 'rate_limited'));
    expect(errors(client, 'rate_limited')[0]).toMatchObject({ story: 'burst-0' });
    // The refused unsubscribe changed nothing: the story is still followed and delivered.
    const id = (await post(service.url, 'burst-0', statement('still followed'))).body.id as string;
    await client.waitFor(() => client.updateIds('burst-0').length === 1);
    expect(client.updateIds('burst-0')).toEqual([id]);
    client.close();
    await client.closed;
  });

  it('closes a socket that keeps churning past the limit with 1008', async () => {
    const client = await LiveTestClient.connect(liveUrl(service.url));
    for (let i = 0; i < 200 && client.ws.readyState === client.ws.OPEN; i++) {
      client.send({ type: i % 2 === 0 ? 'subscribe' : 'unsubscribe', story: 'churn' });
    }
    expect((await client.closed).code).toBe(1008);
    expect(errors(client, 'rate_limited').length).toBeGreaterThan(0);
  });

  it('refuses a story past MAX_ACTIVE_STORIES with node_story_limit and serves the stories already followed', async () => {
    expect(service.hub.activeStories).toBe(0);
    const clients = await Promise.all([0, 1].map(() => LiveTestClient.connect(liveUrl(service.url))));
    for (let i = 0; i < 12; i++) await clients[i % 2]!.subscribe(`node-${i}`);
    expect(service.hub.activeStories).toBe(12);
    expect(await clients[0]!.subscribe('node-12')).toMatchObject({ type: 'error', code: 'node_story_limit', story: 'node-12' });
    // A story the node already follows is not a new one: it still subscribes.
    expect(await clients[0]!.subscribe('node-1')).toMatchObject({ type: 'subscribed', story: 'node-1' });
    // The server stops a socket's subscriptions when its close frame arrives, before it answers the close.
    clients[1]!.close();
    await clients[1]!.closed;
    expect(service.hub.activeStories).toBe(7); // its six, and node-1 which the other socket follows too
    expect(await clients[0]!.subscribe('node-12')).toMatchObject({ type: 'subscribed', story: 'node-12' });
    clients[0]!.close();
  });
});
