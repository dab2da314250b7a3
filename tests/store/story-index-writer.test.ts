import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, createCommandConnection } from '../../src/store/redis-connection.js';
import { StoryIndexWriter } from '../../src/store/story-index-writer.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('index-writer');
const key = `${prefix}stories`;
let redis: Redis;
let reader: Redis;
/** The ZADDs the writer sent, as Redis was asked them (the connection's real zadd, counted). */
const sent: { story: string; ms: number }[] = [];

beforeAll(async () => {
  redis = createCommandConnection(redisUrl);
  reader = createCommandConnection(redisUrl);
  await Promise.all([connectRedis(redis), connectRedis(reader)]);
  const zadd = redis.zadd.bind(redis) as (...args: unknown[]) => Promise<unknown>;
  (redis as unknown as { zadd: (...args: unknown[]) => Promise<unknown> }).zadd = (...args: unknown[]) => {
    sent.push({ story: String(args[3]), ms: Number(args[2]) });
    return zadd(...args);
  };
});

afterAll(async () => {
  redis?.disconnect();
  reader?.disconnect();
  await deletePrefix(prefix);
});

describe('StoryIndexWriter', () => {
  it('settles each record only once the index holds the story at its time or later', async () => {
    const writer = new StoryIndexWriter(redis, key);
    const base = Date.now();
    const checks = Array.from({ length: 50 }, (_, i) =>
      writer.record('one-story', base + i).then(async () => {
        const score = Number(await reader.zscore(key, 'one-story'));
        expect(score, `record ${i} settled before the index held it`).toBeGreaterThanOrEqual(base + i);
      }),
    );
    await Promise.all(checks);
    expect(Number(await reader.zscore(key, 'one-story'))).toBe(base + 49);
  });

  it('keeps one ZADD per story on the wire: a burst on one story is a few commands, other stories are not held back', async () => {
    const writer = new StoryIndexWriter(redis, key);
    sent.length = 0;
    const base = Date.now();
    await Promise.all([
      ...Array.from({ length: 200 }, (_, i) => writer.record('burst', base + i)),
      writer.record('quiet', base),
    ]);
    const burst = sent.filter((s) => s.story === 'burst');
    // The first goes out at once; the 199 asked while it was on the wire go out as one, at their highest time.
    expect(burst).toEqual([
      { story: 'burst', ms: base },
      { story: 'burst', ms: base + 199 },
    ]);
    expect(sent.filter((s) => s.story === 'quiet')).toEqual([{ story: 'quiet', ms: base }]);
    expect(Number(await reader.zscore(key, 'burst'))).toBe(base + 199);
    // GT: a late, older time never moves a story back.
    await writer.record('burst', base - 1_000);
    expect(Number(await reader.zscore(key, 'burst'))).toBe(base + 199);
  });
});
