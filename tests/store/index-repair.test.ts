import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { storyIndexKey, storyKeys } from '../../src/store/keys.js';
import { waitUntil } from '../support/wait-until.js';
import { deletePrefix, post, redisUrl, startTestService, statement, uniquePrefix } from '../support/test-service.js';

// The story index is a separate step after the append (in Cluster it lives in another slot). Here a Redis ACL
// user that may do everything but ZADD makes that step fail for real while the append succeeds.
const prefix = uniquePrefix('index-repair');
const user = `stoppress-no-zadd-${randomBytes(4).toString('hex')}`;
const password = randomBytes(12).toString('hex');
let admin: Redis;
let service: RunningService;

beforeAll(async () => {
  admin = new Redis(redisUrl);
  await admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all', '-zadd');
  const url = new URL(redisUrl);
  url.username = user;
  url.password = password;
  service = await startTestService(prefix, { REDIS_URL: url.toString() });
});

afterAll(async () => {
  await service?.stop();
  await admin.call('ACL', 'DELUSER', user);
  admin.disconnect();
  await deletePrefix(prefix);
});

describe('story index', () => {
  it('answers 201 with the stored update when the index step fails, and repairs the index once it can', async () => {
    const story = 'index-fails';
    const answer = await post(service.url, story, statement('stored all the same'), { 'idempotency-key': 'index-fails-1' });
    // Stored: the answer is the update, not an error a client would retry (and so publish twice).
    expect(answer.status).toBe(201);
    expect(answer.body.text).toBe('stored all the same');
    const id = answer.body.id as string;
    const entries = await admin.xrange(storyKeys(prefix, story).updates, '-', '+');
    expect(entries.map(([entryId]) => entryId)).toEqual([id]);
    expect(await admin.zscore(storyIndexKey(prefix), story)).toBeNull();

    // A retry with the same key stores nothing more and still answers the first update.
    const retry = await post(service.url, story, statement('stored all the same'), { 'idempotency-key': 'index-fails-1' });
    expect(retry.body.id).toBe(id);
    expect(await admin.xlen(storyKeys(prefix, story).updates)).toBe(1);

    await admin.call('ACL', 'SETUSER', user, '+zadd');
    await waitUntil(async () => (await admin.zscore(storyIndexKey(prefix), story)) === id.split('-')[0]);
    const listed = (await (await fetch(`${service.url}/v1/stories`)).json()) as { stories: { story: string }[] };
    expect(listed.stories.map((s) => s.story)).toContain(story);
  });
});
