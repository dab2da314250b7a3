// The orchestrator's own Redis chores: find the server's pid (to read its CPU time) and delete the
// keys one benchmark run created (Stoppress's prefix and the Socket.IO adapter's stream).
import { Redis } from 'ioredis';

async function withRedis(redisUrl, fn) {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

/** Pid of the Redis server (from INFO), or null when it is not a local process we can see. */
export async function redisPid(redisUrl) {
  const info = await withRedis(redisUrl, (r) => r.info('server'));
  const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Deletes every key starting with `prefix`; returns how many. */
export function deleteKeys(redisUrl, prefix) {
  return withRedis(redisUrl, async (redis) => {
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  });
}
