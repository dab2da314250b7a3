// What the read cache holds for 100 stories of 2,000 updates under the default budget, seen from inside the
// process (the service runs in-process here): the cache's own byte count and story count, the V8 heap after a
// full GC, the bytes of the bodies (array buffers), and RSS, which keeps pages V8 and malloc have freed.
//   npm run build && node --expose-gc scripts/bench-read/memory.mjs
import { request } from 'node:http';
import { Redis } from 'ioredis';
import { loadConfig } from '../../dist/config.js';
import { createLogger } from '../../dist/log.js';
import { startService } from '../../dist/service.js';

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}
const prefix = `bench-read-memory-${Date.now().toString(36)}:`;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(redisUrl);
const filler = 'Officials said the convoy had left the depot before dawn and that further statements would follow later in the day, while witnesses described long queues at the border crossing and the ministry repeated its call for calm. ';
const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, PUBLISHER_KEYS: 'bench-memory-key', DEMO: 'off', LOG_LEVEL: 'warn' });
const service = await startService(config, createLogger('warn'));
const get = (path, coding) =>
  new Promise((resolve, reject) => {
    request(`${service.url}${path}`, { headers: coding ? { 'accept-encoding': coding } : {} }, (res) => res.resume().on('end', resolve)).on('error', reject).end();
  });
const mib = (bytes) => (bytes / 1048576).toFixed(1);
const report = (label) => {
  globalThis.gc();
  const m = process.memoryUsage();
  console.log(
    `| ${label} | ${service.readCache.stories} | ${mib(service.readCache.bytes)} | ${mib(m.heapUsed)} | ${mib(m.arrayBuffers)} | ${mib(m.rss)} |`,
  );
};
try {
  console.log(`node --expose-gc scripts/bench-read/memory.mjs (budget READ_CACHE_MAX_BYTES = ${mib(config.readCacheMaxBytes)} MiB)\n`);
  console.log('| after | stories cached | cache MiB (its accounting) | V8 heap used MiB (after GC) | body buffers MiB | RSS MiB |');
  console.log('|---|---:|---:|---:|---:|---:|');
  report('start');
  for (let s = 0; s < 100; s++) {
    const base = `${prefix}story:{m${s}}`;
    const multi = redis.multi();
    let ms = Date.now() - 5_000;
    for (let i = 0; i < 2_000; i++) {
      const data = JSON.stringify({ kind: 'statement', occurredAt: '2022-02-15T10:00:00Z', source: { name: 'Bench Source', org: 'Stoppress' }, text: `Update ${i}. ${filler}`.slice(0, 300), lang: 'en' });
      multi.xadd(`${base}:updates`, `${ms++}-0`, 'k', 'statement', 'd', data);
    }
    multi.hset(`${base}:meta`, 'lastId', `${ms - 1}-0`, 'title', `Story ${s}`, 'status', 'live');
    await multi.exec();
    for (const path of [`/stories/m${s}`, `/v1/stories/m${s}`]) for (const coding of [undefined, 'gzip']) await get(path, coding);
    if (s === 9 || s === 99) report(`${s + 1} stories loaded (page + view, identity + gzip)`);
  }
} finally {
  await service.stop();
  for (let s = 0; s < 100; s++) await redis.del(`${prefix}story:{m${s}}:updates`, `${prefix}story:{m${s}}:meta`);
  await redis.quit();
}
