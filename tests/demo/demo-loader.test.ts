import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoEntries, demoLiveFrom, demoMeta, demoStoryId } from '../../src/demo/demo-story.js';
import type { RunningService } from '../../src/service.js';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { deletePrefix, startTestService, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('demo');
let service: RunningService;

beforeAll(async () => {
  service = await startTestService(prefix, { DEMO: 'on', DEMO_INTERVAL_MS: '20' });
});
afterAll(async () => {
  await service.stop();
  await deletePrefix(prefix);
});

describe('the demo story', () => {
  it('is loaded at start and then replayed live to the end, the date correction included', async () => {
    const client = await LiveTestClient.connect(liveUrl(service.url));
    await client.subscribe(demoStoryId, '0-0');
    await client.waitFor(() => client.updateIds(demoStoryId).length === demoEntries.length);
    const kinds = client.frames.filter((f) => f.type === 'update').map((f) => f.update!.kind);
    expect(kinds).toEqual(demoEntries.map((e) => e.kind));
    client.close();

    const view = await (await fetch(`${service.url}/v1/stories/${demoStoryId}`)).json();
    expect(view).toMatchObject({ story: demoStoryId, title: demoMeta.title, status: 'live' });
    const belarus = view.updates.find((u: { text?: string }) => u.text?.includes('Belarus') && u.text.includes('20 February'));
    expect(belarus?.corrections).toHaveLength(1);
    expect(view.updates.some((u: { text?: string }) => u.text?.includes('20 January'))).toBe(false);
    expect(demoLiveFrom).toBeLessThan(demoEntries.length);
  });

  it('is not loaded again when it is already there', async () => {
    const again = await startTestService(prefix, { DEMO: 'on', DEMO_INTERVAL_MS: '20' });
    try {
      const { updates } = await (await fetch(`${again.url}/v1/stories/${demoStoryId}/updates?limit=1000`)).json();
      expect(updates).toHaveLength(demoEntries.length);
    } finally {
      await again.stop();
    }
  });
});
