// Read benchmark: `npm run bench:read` (= npm run build && node scripts/bench-read/run.mjs).
//
// 1. Writes stories of 100, 2,000 and 10,000 statements (~300 characters each) straight into Redis under a
//    prefix of its own (as the append script stores them), starts Stoppress (node dist/main.js).
// 2. For each size, GETs /stories/:story and /v1/stories/:story once in identity and gzip and stores the bytes;
//    the floor (floor-server.mjs: bare node:http) serves exactly those bytes from memory.
// 3. Loads each route × coding on the floor and on Stoppress with a separate autocannon process (load.mjs),
//    a few seconds each, 20 connections, in alternating pairs (floor, Stoppress; 3 rounds): each side's figures
//    are its medians, each ratio the median of the rounds' ratios (a pair ran under the same load of this shared
//    machine); then 304 answers (If-None-Match) against /readyz (one Redis call); then,
//    for reference, Stoppress's /healthz (no Redis, 15 bytes) against the floor's smallest answer ("ok"): what
//    the HTTP framework and hooks cost before any read-path work.
// 4. Memory: 100 stories of 2,000 updates each loaded once (page and view, identity and gzip) under the default
//    READ_CACHE_MAX_BYTES; the server's RSS before and after.
// 5. Mixed: a reader starts a page load every 2 ms while updates are published at 5/s over HTTP; every page
//    must contain every update whose 201 arrived before that page's request started.
// Prints the tables; the server, Redis and the load process share this machine's cores, hence the floor.
//   Options: --seconds N (each load, default 3), --connections N (default 20), --rounds N (pairs per row,
//   default 3), --keep (leave the keys),
//   --mixed-only (only the mixed run, as one JSON line), --sizes 100,2000,10000 (story sizes; the mixed run needs
//   2000), --skip-memory (no 100-story memory step).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request as httpGet } from 'node:http';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { sampleProcess } from '../bench-ingest/proc-stats.mjs';
import { deleteKeysWithPrefix } from '../bench-ingest/redis-checks.mjs';
import { freePort, startServer, stopServer, waitUntilReady } from '../bench-ingest/server-process.mjs';
import { median } from '../bench-scale/phase.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
    'mixed-only': { type: 'boolean', default: false },
    sizes: { type: 'string', default: '100,2000,10000' },
    'skip-memory': { type: 'boolean', default: false },
  },
});
const seconds = Number(args.seconds);
const connections = Number(args.connections);
const rounds = Number(args.rounds);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const run = Date.now().toString(36);
const prefix = `bench-read-${run}:`;
const key = 'bench-read-publisher-key';
const log = (message) => process.stderr.write(`[bench-read] ${message}\n`);
const sizes = args.sizes.split(',').map(Number);
const memoryStories = 100;

const filler = 'Officials said the convoy had left the depot before dawn and that further statements would follow later in the day, while witnesses described long queues at the border crossing and the ministry repeated its call for calm. ';
const statementJson = (i) =>
  JSON.stringify({ kind: 'statement', occurredAt: '2022-02-15T10:00:00+03:00', source: { name: 'Bench Source', org: 'Stoppress' }, text: `Update ${i}. ${filler}`.slice(0, 300), lang: 'en' });

/** Writes `count` statements into a story's stream and meta hash as the append script would (ids ms-0, oldest first). */
async function writeStory(redis, story, count) {
  const base = `${prefix}story:{${story}}`;
  let ms = Date.now() - count - 60_000;
  for (let start = 0; start < count; start += 1_000) {
    const multi = redis.multi();
    for (let i = start; i < Math.min(count, start + 1_000); i++) multi.xadd(`${base}:updates`, `${ms++}-0`, 'k', 'statement', 'd', statementJson(i));
    await multi.exec();
  }
  await redis.hset(`${base}:meta`, 'title', `Bench story of ${count} updates`, 'status', 'live', 'lastId', `${ms - 1}-0`, 'count', count);
}

function load(url, headers = {}) {
  const output = execFileSync(process.execPath, [path.join(ROOT, 'scripts/bench-read/load.mjs'), url, String(seconds), String(connections), JSON.stringify(headers)], { encoding: 'utf8' });
  return JSON.parse(output.trim().split('\n').at(-1));
}

async function getBytes(url, coding) {
  // node:http rather than fetch: fetch decompresses, and the floor must send the compressed bytes themselves.
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    request(url, { headers: coding === 'identity' ? {} : { 'accept-encoding': coding } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

const mib = (bytes) => (bytes / 1048576).toFixed(1);
const redis = new Redis(redisUrl);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-read-'));
let service;
let floor;
try {
  log(`writing stories of ${sizes.join(', ')} updates under ${prefix}`);
  for (const size of sizes) await writeStory(redis, `size-${size}`, size);

  const port = await freePort();
  service = startServer({ entry: 'dist/main.js', cwd: ROOT, env: { PORT: String(port), HOST: '127.0.0.1', REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, PUBLISHER_KEYS: key, DEMO: 'off', LOG_LEVEL: 'warn' } });
  const base = `http://127.0.0.1:${port}`;
  await waitUntilReady(service, `${base}/readyz`);
  log(`stoppress ready (pid ${service.pid})`);

  if (args['mixed-only']) {
    const before = sampleProcess(service.pid);
    const mixed = await mixedRun(base, 'size-2000', 5_000);
    const after = sampleProcess(service.pid);
    console.log(JSON.stringify({ ...mixed, serverCpuPercent: Math.round(((after.cpuSeconds - before.cpuSeconds) / ((after.at - before.at) / 1000)) * 100) }));
  }
  if (!args['mixed-only']) {
    const manifest = [];
    const routes = [];
    for (const size of sizes) {
      for (const route of [`/stories/size-${size}`, `/v1/stories/size-${size}`]) {
        for (const coding of ['identity', 'gzip']) {
          const startedAt = performance.now();
          const answer = await getBytes(`${base}${route}`, coding);
          // The first identity request of a route pays the rebuild (read, fold, render); the first gzip one the compression.
          const firstMs = performance.now() - startedAt;
          if (answer.status !== 200) throw new Error(`${route} answered ${answer.status}`);
          const file = path.join(tmp, `${manifest.length}.bin`);
          writeFileSync(file, answer.body);
          manifest.push({ path: route, coding, file, contentType: answer.headers['content-type'] });
          routes.push({ size, route, coding, bytes: answer.body.length, etag: answer.headers.etag, firstMs });
        }
      }
    }
    writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest));
    const floorPort = await freePort();
    floor = startServer({ entry: 'scripts/bench-read/floor-server.mjs', cwd: ROOT, env: { PORT: String(floorPort), FLOOR_MANIFEST: path.join(tmp, 'manifest.json') } });
    const floorBase = `http://127.0.0.1:${floorPort}`;
    await waitUntilReady(floor, `${floorBase}/`);

    const rows = [];
    for (const r of routes) {
      const headers = r.coding === 'identity' ? {} : { 'accept-encoding': r.coding };
      log(`load ${r.route} ${r.coding} (${(r.bytes / 1024).toFixed(0)} KiB): ${rounds} × (floor, then stoppress)`);
      const pairs = [];
      for (let round = 0; round < rounds; round++) pairs.push({ floor: load(`${floorBase}${r.route}`, headers), stoppress: load(`${base}${r.route}`, headers) });
      const side = (name) => ({
        reqPerSec: Math.round(median(pairs.map((p) => p[name].reqPerSec))),
        p50: Number(median(pairs.map((p) => p[name].p50)).toFixed(2)),
        p99: Number(median(pairs.map((p) => p[name].p99)).toFixed(2)),
      });
      rows.push({
        ...r,
        floor: side('floor'),
        stoppress: side('stoppress'),
        rateRatio: median(pairs.map((p) => p.stoppress.reqPerSec / p.floor.reqPerSec)),
        p99Ratio: median(pairs.map((p) => p.stoppress.p99 / p.floor.p99)),
        rss: sampleProcess(service.pid).rssBytes,
      });
    }

    log('304 answers against /readyz');
    const conditional = routes.find((r) => r.route.startsWith('/v1/') && r.coding === 'gzip' && (r.size === 2_000 || !sizes.includes(2_000)));
    const notModified = load(`${base}${conditional.route}`, { 'accept-encoding': 'gzip', 'if-none-match': conditional.etag });
    const readyz = load(`${base}/readyz`);
    log('reference: /healthz against the floor\'s "ok"');
    const floorOk = load(`${floorBase}/ok`);
    const healthz = load(`${base}/healthz`);

    let rssBefore;
    let rssAfter;
    if (!args['skip-memory']) {
      log(`memory: ${memoryStories} stories of 2,000 updates`);
      rssBefore = sampleProcess(service.pid).rssBytes;
      for (let i = 0; i < memoryStories; i++) await writeStory(redis, `mem-${i}`, 2_000);
      for (let i = 0; i < memoryStories; i++) {
        for (const route of [`/stories/mem-${i}`, `/v1/stories/mem-${i}`]) for (const coding of ['identity', 'gzip']) await getBytes(`${base}${route}`, coding);
      }
      rssAfter = sampleProcess(service.pid).rssBytes;
      for (let i = 0; i < memoryStories; i++) await redis.del(`${prefix}story:{mem-${i}}:updates`, `${prefix}story:{mem-${i}}:meta`);
    }

    let mixed;
    if (sizes.includes(2_000)) {
      log('mixed: a page every 2 ms while 5 updates/s are published');
      mixed = await mixedRun(base, 'size-2000', 5_000);
    }

    const ratio = (a, b) => (b ? (a / b).toFixed(2) : 'n/a');
    const lines = [];
    lines.push('## Stoppress read benchmark', '');
    lines.push(`- command: node scripts/bench-read/run.mjs ${process.argv.slice(2).join(' ')}`.trimEnd());
    lines.push(`- node ${process.version}; ${os.cpus().length} × ${os.cpus()[0]?.model}; each load ${seconds} s over ${connections} connections (autocannon, own process); server, Redis and load share these cores`);
    lines.push(`- each row: ${rounds} alternating pairs (floor, Stoppress); req/s and p50/p99 are each side's medians, the ratios the medians of the pairs' ratios`);
    lines.push('');
    lines.push('| updates | route | coding | body KiB | first answer ms | floor req/s | Stoppress req/s | ratio | floor p50/p99 ms | Stoppress p50/p99 ms | p99 ratio | server RSS MiB |');
    lines.push('|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    let allMet = true;
    for (const r of rows) {
      const rate = r.rateRatio;
      const p99 = r.p99Ratio;
      if (rate < 0.5 || p99 > 1.5) allMet = false;
      lines.push(
        `| ${r.size.toLocaleString('en-US')} | \`${r.route.replace(/size-\d+/, ':story')}\` | ${r.coding} | ${(r.bytes / 1024).toFixed(1)} | ${r.firstMs.toFixed(0)} | ${r.floor.reqPerSec.toLocaleString('en-US')} | ${r.stoppress.reqPerSec.toLocaleString('en-US')} | ${rate.toFixed(2)} | ${r.floor.p50}/${r.floor.p99} | ${r.stoppress.p50}/${r.stoppress.p99} | ${p99.toFixed(2)} | ${mib(r.rss)} |`,
      );
    }
    lines.push('');
    lines.push('"first answer": the first request after the story changed, from the client: the rebuild (snapshot read, fold, render) for identity, the compression for gzip (the view was built by then).');
    lines.push(`Targets ≥ 0.5× the floor's req/s and p99 ≤ 1.5× the floor's (latencies to the µs): ${allMet ? 'met' : 'NOT met'} for every row.`);
    lines.push('');
    lines.push('| conditional | req/s | p50/p99 ms | status codes |');
    lines.push('|---|---:|---:|---|');
    lines.push(`| 304 (If-None-Match, ${conditional.size.toLocaleString('en-US')}-update view, gzip) | ${notModified.reqPerSec.toLocaleString('en-US')} | ${notModified.p50}/${notModified.p99} | ${JSON.stringify(notModified.statusCodes)} |`);
    lines.push(`| /readyz (one Redis PING) | ${readyz.reqPerSec.toLocaleString('en-US')} | ${readyz.p50}/${readyz.p99} | ${JSON.stringify(readyz.statusCodes)} |`);
    lines.push('');
    lines.push(`304 rate ÷ /readyz rate: ${ratio(notModified.reqPerSec, readyz.reqPerSec)} (target ≥ 0.5).`);
    lines.push('');
    lines.push('| reference: no Redis, no read path | req/s | p50/p99 ms |');
    lines.push('|---|---:|---:|');
    lines.push(`| floor: "ok" (2 bytes) | ${floorOk.reqPerSec.toLocaleString('en-US')} | ${floorOk.p50}/${floorOk.p99} |`);
    lines.push(`| Stoppress: /healthz (15 bytes; Fastify, CORS, request id, metrics and log hooks) | ${healthz.reqPerSec.toLocaleString('en-US')} | ${healthz.p50}/${healthz.p99} |`);
    lines.push('');
    lines.push(`/healthz ÷ floor: ${ratio(healthz.reqPerSec, floorOk.reqPerSec)} of the rate, p99 ${ratio(healthz.p99, floorOk.p99)}× (what the framework costs on its own).`);
    lines.push('');
    if (rssAfter !== undefined) lines.push(
      `Memory: ${memoryStories} stories of 2,000 updates, each page and view loaded in identity and gzip under the default READ_CACHE_MAX_BYTES (128 MiB): server RSS ${mib(rssBefore)} MiB before, ${mib(rssAfter)} MiB after (RSS keeps V8's and malloc's freed pages; \`node --expose-gc scripts/bench-read/memory.mjs\` shows what the cache itself holds).`,
    );
    lines.push('');
    if (mixed) lines.push(
      `Mixed (2,000-update story, a page load started every 2 ms for ${mixed.seconds} s, 5 updates/s published): ${mixed.pages.toLocaleString('en-US')} pages (${mixed.rate}/s), p50 ${mixed.p50} ms, p99 ${mixed.p99} ms; ${mixed.published} updates published; pages missing an update acknowledged before they were requested: ${mixed.stale}${mixed.skipped ? `; ${mixed.skipped} loads skipped (over 100 in flight)` : ''}.`,
    );
    console.log(lines.join('\n'));
    process.exitCode = allMet && (mixed?.stale ?? 0) === 0 ? 0 : 1;
  }
} finally {
  if (floor) await stopServer(floor);
  if (service) await stopServer(service);
  rmSync(tmp, { recursive: true, force: true });
  if (!args.keep) await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
}

/** Readers every 2 ms and a publisher at 5/s for `durationMs`; checks every page against the 201s before it started. */
async function mixedRun(base, story, durationMs) {
  const readerAgent = new Agent({ keepAlive: true, maxSockets: 100 });
  const acked = [];
  const latencies = [];
  let stale = 0;
  let skipped = 0;
  let inFlight = 0;
  const start = Date.now();
  const pending = [];
  const publisher = setInterval(() => {
    pending.push(
      fetch(`${base}/v1/stories/${story}/updates`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ kind: 'statement', occurredAt: new Date().toISOString(), text: `Mixed run update at ${Date.now()}` }),
      }).then(async (response) => {
        if (response.status === 201) acked.push((await response.json()).id);
      }),
    );
  }, 200);
  // One page load per 2 ms of elapsed time: a timer tick starts as many as are due (timers cannot fire every 2 ms).
  let started = 0;
  const reader = setInterval(() => {
    const due = Math.floor((Date.now() - start) / 2);
    while (started < due) {
      started += 1;
      startRead();
    }
  }, 1);
  const startRead = () => {
    if (inFlight >= 100) {
      skipped += 1;
      return;
    }
    const mustHave = [...acked];
    const startedAt = performance.now();
    inFlight += 1;
    // node:http on a keep-alive agent, and a byte search in the raw body: the reader must stay cheaper than the server.
    pending.push(
      new Promise((resolve) => {
        httpGet(`${base}/stories/${story}`, { agent: readerAgent }, (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            latencies.push(performance.now() - startedAt);
            if (res.statusCode !== 200 || mustHave.some((id) => !body.includes(`id="u-${id}"`))) stale += 1;
            resolve();
          });
        })
          .on('error', () => {
            stale += 1;
            resolve();
          })
          .end();
      }).finally(() => (inFlight -= 1)),
    );
  };
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  clearInterval(publisher);
  clearInterval(reader);
  await Promise.allSettled(pending);
  readerAgent.destroy();
  const elapsed = (Date.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]?.toFixed(1);
  return { seconds: durationMs / 1000, pages: latencies.length, rate: Math.round(latencies.length / elapsed), p50: at(50), p99: at(99), published: acked.length, stale, skipped };
}
