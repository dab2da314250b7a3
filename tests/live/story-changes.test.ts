import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { StoryFrame } from '../../src/protocol/live-messages.js';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { deletePrefix, readAnswer, post, publisherKey, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('story-changes');
let service: RunningService;

beforeAll(async () => {
  service = await startTestService(prefix);
});
afterAll(async () => {
  await service.stop();
  await deletePrefix(prefix);
});

async function send(method: string, path: string, body: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}` },
    body: JSON.stringify(body),
  });
  return readAnswer(response);
}

const putMeta = (story: string, meta: Record<string, unknown>) => send('PUT', `/v1/stories/${story}`, meta);
const setFlags = (story: string, id: string, flags: Record<string, unknown>) => send('POST', `/v1/stories/${story}/updates/${id}/flags`, flags);
const storyFrames = (client: LiveTestClient, story: string) => client.frames.filter((f) => f.type === 'story' && f.story === story) as unknown as StoryFrame[];

describe('story changes on /v1/live', () => {
  it('delivers a metadata write as a `story` frame, live and in a backlog, in order with the updates', async () => {
    const story = 'meta-live';
    await putMeta(story, { title: 'Before', status: 'live' });
    const first = (await post(service.url, story, statement('one'))).body.id as string;
    const client = await LiveTestClient.connect(liveUrl(service.url));
    await client.subscribe(story);
    await putMeta(story, { title: 'After', summary: 'Now with a summary', status: 'ended' });
    const second = (await post(service.url, story, statement('two'))).body.id as string;
    await client.waitFor(() => client.updateIds(story).length === 1);
    const live = storyFrames(client, story);
    expect(live).toHaveLength(1);
    expect(StoryFrame.parse(live[0])).toMatchObject({ type: 'story', story, change: { kind: 'story', story, meta: { title: 'After', summary: 'Now with a summary', status: 'ended' } } });
    expect(live[0]!.change.id < second).toBe(true);
    // Never an update frame.
    expect(client.updateIds(story)).toEqual([second]);

    const resumed = await LiveTestClient.connect(liveUrl(service.url));
    await resumed.subscribe(story, first);
    await resumed.waitFor(() => resumed.updateIds(story).length === 1);
    const order = resumed.frames.filter((f) => f.type === 'story' || f.type === 'update').map((f) => f.type);
    expect(order).toEqual(['story', 'update']);
    expect(storyFrames(resumed, story)[0]).toEqual(live[0]);
    client.close();
    resumed.close();
  });

  it('keeps `count` counting updates only and the raw update list free of story changes', async () => {
    const story = 'meta-count';
    await putMeta(story, { title: 'Counted', status: 'live' });
    const id = (await post(service.url, story, statement('only update'))).body.id as string;
    await putMeta(story, { title: 'Counted again', status: 'live' });
    await setFlags(story, id, { key: true });
    const list = (await (await fetch(`${service.url}/v1/stories`)).json()) as { stories: { story: string; count: number; title: string }[] };
    expect(list.stories.find((s) => s.story === story)).toMatchObject({ count: 1, title: 'Counted again' });
    const raw = (await (await fetch(`${service.url}/v1/stories/${story}/updates`)).json()) as { updates: { id: string }[]; nextAfter: string };
    expect(raw.updates.map((u) => u.id)).toEqual([id]);
    const view = (await (await fetch(`${service.url}/v1/stories/${story}`)).json()) as { lastId: string };
    expect(raw.nextAfter).toBe(view.lastId);
  });

  it('sets and clears key and pinned after publishing, folded into the view (one pinned update per story)', async () => {
    const story = 'flags';
    const a = (await post(service.url, story, statement('a'))).body.id as string;
    const b = (await post(service.url, story, statement('b', { key: true }))).body.id as string;
    const client = await LiveTestClient.connect(liveUrl(service.url));
    await client.subscribe(story);

    const pinA = await setFlags(story, a, { pinned: true, key: true });
    expect(pinA.status).toBe(200);
    expect(pinA.body).toMatchObject({ kind: 'story', story, flags: { update: a, key: true, pinned: true }, meta: { pinned: a } });
    let view = (await (await fetch(`${service.url}/v1/stories/${story}`)).json()) as any;
    expect(view.pinned).toBe(a);
    expect(view.updates.map((u: any) => [u.id, u.key ?? false])).toEqual([[a, true], [b, true]]);

    await setFlags(story, b, { pinned: true, key: false });
    view = (await (await fetch(`${service.url}/v1/stories/${story}`)).json()) as any;
    expect(view.pinned).toBe(b);
    expect(view.updates.map((u: any) => [u.id, u.key ?? false])).toEqual([[a, true], [b, false]]);

    // Unpinning an update that is not the pinned one leaves the pin alone.
    await setFlags(story, a, { pinned: false });
    view = (await (await fetch(`${service.url}/v1/stories/${story}`)).json()) as any;
    expect(view.pinned).toBe(b);
    await setFlags(story, b, { pinned: false });
    view = (await (await fetch(`${service.url}/v1/stories/${story}`)).json()) as any;
    expect(view.pinned).toBeUndefined();

    await client.waitFor(() => storyFrames(client, story).length === 4);
    expect(storyFrames(client, story).map((f) => f.change.flags)).toEqual([
      { update: a, key: true, pinned: true },
      { update: b, key: false, pinned: true },
      { update: a, pinned: false },
      { update: b, pinned: false },
    ]);
    client.close();
  });

  it('refuses flags for a missing update, a correction, and an empty body', async () => {
    const story = 'flags-refused';
    const a = (await post(service.url, story, statement('a'))).body.id as string;
    const fix = (await post(service.url, story, { kind: 'correction', corrects: a, text: 'A', note: 'case' })).body.id as string;
    expect((await setFlags(story, '1-1', { key: true })).body.error.code).toBe('target_not_found');
    const refused = await setFlags(story, fix, { key: true });
    expect([refused.status, refused.body.error.code]).toEqual([422, 'not_flaggable']);
    expect((await setFlags(story, a, {})).body.error.code).toBe('validation_failed');
    expect((await setFlags(story, a, { key: 'yes' })).body.error.code).toBe('validation_failed');
    const unauthorized = await fetch(`${service.url}/v1/stories/${story}/updates/${a}/flags`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"key":true}' });
    expect(unauthorized.status).toBe(401);
  });

  it('makes a PATCH with If-Match one atomic step with its story-change entry: a stale one writes neither', async () => {
    const story = 'meta-if-version';
    const client = await LiveTestClient.connect(liveUrl(service.url));
    await putMeta(story, { title: 'One', summary: 'Kept', status: 'live' });
    await client.subscribe(story);
    const etag = (await fetch(`${service.url}/v1/stories/${story}`)).headers.get('etag')!;
    const patch = (title: string, ifMatch: string) =>
      fetch(`${service.url}/v1/stories/${story}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}`, 'if-match': ifMatch },
        body: JSON.stringify({ title }),
      });
    expect((await patch('Two', etag)).status).toBe(200);
    expect((await patch('Lost', etag)).status).toBe(412);
    // A marker published after the refused PATCH: anything that PATCH had appended would arrive before it.
    const marker = (await post(service.url, story, statement('marker'))).body.id as string;
    await client.waitFor(() => client.updateIds(story).includes(marker));
    const frames = client.frames.filter((f) => f.type === 'story') as unknown as { change: { meta: Record<string, string> } }[];
    expect(frames.map((f) => f.change.meta)).toEqual([{ title: 'Two', summary: 'Kept', status: 'live' }]);
    const raw = (await (await fetch(`${service.url}/v1/stories/${story}`)).json()) as { title: string; summary: string };
    expect([raw.title, raw.summary]).toEqual(['Two', 'Kept']);
    client.close();
  });

  it('moves the view cache on a story change (title and status are new at once)', async () => {
    const story = 'meta-cache';
    await putMeta(story, { title: 'Old', status: 'live' });
    await post(service.url, story, statement('x'));
    const before = await fetch(`${service.url}/v1/stories/${story}`);
    const etag = before.headers.get('etag');
    await putMeta(story, { title: 'New', status: 'ended' });
    const after = await fetch(`${service.url}/v1/stories/${story}`);
    expect(after.headers.get('etag')).not.toBe(etag);
    expect(await after.json()).toMatchObject({ title: 'New', status: 'ended' });
  });
});
