import { describe, expect, it } from 'vitest';
import { CachedStory, StoryCache, stampCovers, type SnapshotSource } from '../../src/read/story-cache.js';
import type { StorySnapshot, StoryStamp } from '../../src/store/story-store.js';

/** A store whose stamp reads stay unanswered until the test answers them, counting each one sent. */
function heldSource(): SnapshotSource & { sent: ((stamp: StoryStamp) => void)[] } {
  const sent: ((stamp: StoryStamp) => void)[] = [];
  return {
    sent,
    readStamp: () => new Promise<StoryStamp>((resolve) => sent.push(resolve)),
    readSnapshot: async (): Promise<StorySnapshot | null> => null,
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const stamp = (lastId: string | null, version = 0): StoryStamp => ({ lastId, version, status: null });

describe('StoryCache.stamp', () => {
  it('shares one read among requests of one turn, and never lets a later request join a read already sent', async () => {
    const source = heldSource();
    const cache = new StoryCache(source, { maxBytes: 1_000_000 });
    const first = [cache.stamp('s'), cache.stamp('s'), cache.stamp('s')];
    const other = cache.stamp('t');
    expect(source.sent).toHaveLength(0);
    await turn();
    expect(source.sent).toHaveLength(2);
    // The read for "s" is out: requests arriving now share a read of their own, sent after they arrived.
    const later = [cache.stamp('s'), cache.stamp('s')];
    await turn();
    expect(source.sent).toHaveLength(3);
    // Answered out of order: each request gets the read it shared, never an earlier one.
    source.sent[2]!(stamp('2-0'));
    expect((await Promise.all(later)).map((s) => s.lastId)).toEqual(['2-0', '2-0']);
    source.sent[0]!(stamp('1-0'));
    source.sent[1]!(stamp('9-0'));
    expect((await Promise.all(first)).map((s) => s.lastId)).toEqual(['1-0', '1-0', '1-0']);
    expect((await other).lastId).toBe('9-0');
  });

  it('fails only the requests that shared a failed read', async () => {
    const sent: { resolve: (stamp: StoryStamp) => void; reject: (error: Error) => void }[] = [];
    const source: SnapshotSource = {
      readStamp: () => new Promise<StoryStamp>((resolve, reject) => sent.push({ resolve, reject })),
      readSnapshot: async () => null,
    };
    const cache = new StoryCache(source, { maxBytes: 1_000_000 });
    const first = [cache.stamp('s'), cache.stamp('s')];
    await turn();
    const second = cache.stamp('s');
    await turn();
    expect(sent).toHaveLength(2);
    sent[0]!.reject(new Error('redis down'));
    for (const request of first) await expect(request).rejects.toThrow('redis down');
    sent[1]!.resolve(stamp('3-0'));
    expect((await second).lastId).toBe('3-0');
  });
});

describe('stampCovers', () => {
  it('covers an older or equal stamp, in both the last id and the version', () => {
    expect(stampCovers(stamp('2-0', 1), stamp('1-5', 1))).toBe(true);
    expect(stampCovers(stamp('2-0', 1), stamp('2-0', 1))).toBe(true);
    expect(stampCovers(stamp('2-0', 1), stamp('2-1', 1))).toBe(false);
    expect(stampCovers(stamp('2-0', 1), stamp('2-0', 2))).toBe(false);
    expect(stampCovers(stamp(null, 3), stamp(null, 2))).toBe(true);
    expect(stampCovers(stamp(null, 3), stamp('1-0', 0))).toBe(false);
    expect(stampCovers(stamp('10-0'), stamp('9-0'))).toBe(true);
  });
});

describe('CachedStory.representation', () => {
  it('builds each variant once, keeps at most the cap, and never evicts the main page or view for a cursor', () => {
    const snapshot: StorySnapshot = { view: { story: 's', lastId: '1-0', updates: [] }, stamp: stamp('1-0'), storedChars: 0 };
    const story = new CachedStory(snapshot, 3, () => {});
    const builds: string[] = [];
    const build = (name: string) => () => {
      builds.push(name);
      return { body: name, contentType: 'text/plain' };
    };
    story.representation('page', build('page'), false);
    for (const cursor of ['a', 'b', 'c', 'd']) story.representation(`page:${cursor}`, build(`page:${cursor}`));
    story.representation('page', build('page'), false);
    story.representation('page:d', build('page:d'));
    expect(builds).toEqual(['page', 'page:a', 'page:b', 'page:c', 'page:d']);
    // page:a and page:b went (the cap is 3), page stayed.
    story.representation('page:a', build('page:a'));
    expect(builds.at(-1)).toBe('page:a');
    expect(story.representation('page', build('page'), false).body.toString()).toBe('page');
    expect(builds.filter((b) => b === 'page')).toHaveLength(1);
  });
});

describe('renderRevision', () => {
  it('is stable for one build and PUBLIC_URL, and changes with PUBLIC_URL', async () => {
    const { renderRevision } = await import('../../src/web/render-revision.js');
    expect(renderRevision('https://live.example.com')).toMatch(/^[0-9a-f]{8}$/);
    expect(renderRevision('https://live.example.com')).toBe(renderRevision('https://live.example.com'));
    expect(renderRevision('https://live.example.com')).not.toBe(renderRevision('https://other.example.com'));
  });
});
