// Scale-out benchmark (`npm run bench:scale`; `--help` for options). See README.md next to this file.
//
// For each topology (a private single redis-server, a private 3-master Redis Cluster):
//   for each node count (1, 4): start that many `node dist/main.js` nodes on the topology;
//     for each K (1, 100, 1,000, 10,000): every node's sockets follow K stories (100 per socket; story s-0, the
//       published one, on socket 0 of every node); warm up; then measure an idle window and a publish window
//       (publishes over real HTTP, round-robin over the nodes, until every socket following s-0 has them all);
//   then the floor (XADD + SPUBLISH pipelined, with 0, 1 and 4 SSUBSCRIBEd connections).
// Then print the markdown tables and the targets.
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, startServer, waitReady, stopServer } from '../bench-live/child.mjs';
import { createPublisher } from '../bench-live/publisher.mjs';
import { publishRequest } from '../bench-live/clients/stoppress.mjs';
import { startSingleRedis, startRedisCluster } from './redis-procs.mjs';
import { createRedisMeter } from './redis-meter.mjs';
import { openLiveSocket, audit } from './live-sockets.mjs';
import { atRate, measurePhase, perPublish } from './phase.mjs';
import { runFloor } from './floor.mjs';
import { report } from './report.mjs';

const HELP = `npm run bench:scale [-- options]
  --publishes N    measured publishes per configuration (default 400)
  --rate N         publishes per second (default 200)
  --ks LIST        stories followed per node (default 1,100,1000,10000)
  --nodes LIST     node counts (default 1,4)
  --topologies L   single,cluster (default both)
  --idle-ms N      idle window measured before each publish window (default 1500)`;

const { values: args } = parseArgs({
  options: {
    publishes: { type: 'string', default: '400' },
    rate: { type: 'string', default: '200' },
    ks: { type: 'string', default: '1,100,1000,10000' },
    nodes: { type: 'string', default: '1,4' },
    topologies: { type: 'string', default: 'single,cluster' },
    'idle-ms': { type: 'string', default: '1500' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
const opts = {
  publishes: Number(args.publishes),
  rate: Number(args.rate),
  ks: list(args.ks).map(Number),
  nodes: list(args.nodes).map(Number),
  topologies: list(args.topologies),
  idleMs: Number(args['idle-ms']),
};

const STORIES_PER_SOCKET = 100;
const MAX_SOCKETS = 400;
const WARMUP = 20;
const SUBSCRIBE_CONCURRENCY = 8; // sockets subscribing at once (each sends up to 100 subscribe frames)
const DRAIN_TIMEOUT_MS = 10_000;
const STREAM_MAXLEN = 10_000;
const HOT = 's-0';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => console.log(msg);

if (Math.max(...opts.nodes) * Math.ceil(Math.max(...opts.ks) / STORIES_PER_SOCKET) > MAX_SOCKETS) {
  console.error(`more than ${MAX_SOCKETS} sockets: lower --ks or --nodes`);
  process.exit(2);
}
const runId = Date.now().toString(36);
const keyPrefix = `bs-${runId}:`;

function nodeSpec(port, topology) {
  return {
    command: process.execPath,
    args: ['dist/main.js'],
    env: {
      ...process.env,
      ...topology.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLISHER_KEYS: 'bench-key',
      DEMO: 'off',
      LOG_LEVEL: 'warn',
      REDIS_KEY_PREFIX: keyPrefix,
      STREAM_MAXLEN: String(STREAM_MAXLEN),
      WS_MAX_SUBSCRIPTIONS: String(STORIES_PER_SOCKET),
      WS_SUBSCRIBE_BURST: String(STORIES_PER_SOCKET),
      WS_SUBSCRIBE_RATE: '1000',
      MAX_ACTIVE_STORIES: '50000',
    },
  };
}

/** Runs `fn` over `items` with at most `n` in flight. */
async function pool(items, n, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/** Grows every node's sockets so each node follows stories s-0..s-(k−1), 100 per socket. */
async function followK(nodes, k) {
  const work = [];
  for (const node of nodes) {
    for (let j = 0; j * STORIES_PER_SOCKET < k; j++) {
      const want = Math.min(STORIES_PER_SOCKET, k - j * STORIES_PER_SOCKET);
      work.push({ node, j, want });
    }
  }
  await pool(work, SUBSCRIBE_CONCURRENCY, async ({ node, j, want }) => {
    node.sockets[j] ??= Object.assign(await openLiveSocket(`127.0.0.1:${node.port}`, HOT), { following: 0 });
    const socket = node.sockets[j];
    const stories = [];
    for (let i = socket.following; i < want; i++) stories.push(`s-${j * STORIES_PER_SOCKET + i}`);
    await socket.follow(stories);
    socket.following = want;
  });
}

/** Benchmarks one topology with `count` nodes for every K; answers one row per K. */
async function benchNodes(topology, meter, count) {
  const nodes = [];
  const rows = [];
  try {
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const child = startServer(nodeSpec(port, topology), `node${i}`);
      nodes.push({ port, child, sockets: [], publish: createPublisher('127.0.0.1', port) });
    }
    await Promise.all(nodes.map((n) => waitReady(n.child, n.port)));
    const pids = nodes.map((n) => n.child.pid);
    let published = 0;
    let failures = 0;
    const publishOne = async () => {
      const k = published++;
      const node = nodes[k % nodes.length];
      const status = await node.publish(publishRequest(HOT, `n=${k}`)).catch(() => 0);
      if (status !== 201) failures++;
    };
    const allSockets = () => nodes.flatMap((n) => n.sockets);
    const drain = async (from, to) => {
      const deadline = performance.now() + DRAIN_TIMEOUT_MS;
      while (audit(allSockets(), from, to).missing > 0 && performance.now() < deadline) await sleep(2);
    };
    for (const k of opts.ks) {
      const t0 = performance.now();
      const retriesBefore = allSockets().reduce((sum, s) => sum + s.retries, 0);
      await followK(nodes, k);
      const sockets = allSockets().length;
      const retries = allSockets().reduce((sum, s) => sum + s.retries, 0) - retriesBefore;
      log(
        `  ${topology.kind}, ${count} node(s), K=${k}: ${sockets} sockets subscribed in ${((performance.now() - t0) / 1000).toFixed(1)} s` +
          `${retries ? ` (${retries} subscriptions refused with redis_unavailable and sent again)` : ''}`,
      );
      const warm = published;
      await atRate(WARMUP, opts.rate, publishOne);
      await drain(warm, published);
      await sleep(200);
      const from = published;
      failures = 0;
      const phase = await measurePhase({
        meter,
        pids,
        idleMs: opts.idleMs,
        publishAll: async () => {
          await atRate(opts.publishes, opts.rate, publishOne);
          await drain(from, published);
        },
      });
      const a = audit(allSockets(), from, published);
      const closed = allSockets().filter((s) => s.closed).length;
      const strays = allSockets().reduce((sum, s) => sum + s.strays, 0);
      const row = { topology: topology.kind, nodes: count, k, sockets, retries, ...perPublish(phase, opts.publishes), ...a, failures, closed, strays };
      rows.push(row);
      log(
        `    Redis ${row.redisUs.toFixed(1)} µs/publish (${row.redisNetUs.toFixed(1)} net of idle ${(row.idleRedisUsPerSec / 1000).toFixed(1)} ms/s), ` +
          `${row.commands.toFixed(2)} commands/publish, nodes ${row.nodeUs.toFixed(0)} µs/publish, delivered ${a.delivered}/${a.expected}` +
          `${a.duplicates ? `, ${a.duplicates} duplicates` : ''}${failures ? `, ${failures} failed publishes` : ''}${closed ? `, ${closed} sockets closed` : ''}`,
      );
      log(`    per publish: ${row.breakdown.map(([name, calls, usec]) => `${name} ${calls.toFixed(2)}× ${usec.toFixed(1)} µs`).join(', ')}`);
      if (row.idleBreakdown.length) log(`    idle, per second: ${row.idleBreakdown.map(([name, perSec]) => `${name} ${perSec.toFixed(1)}`).join(', ')}`);
    }
  } finally {
    for (const n of nodes) {
      n.sockets.forEach((s) => s.close());
      n.publish.close();
    }
    await Promise.all(nodes.map((n) => stopServer(n.child)));
  }
  return rows;
}

/** The update JSON Stoppress stored last for the hot story: the floor publishes a payload of the same size. */
async function storedJson(topology) {
  const stream = `${keyPrefix}story:{${HOT}}:updates`;
  const redis = new Redis({ host: '127.0.0.1', port: topology.masterFor(stream) });
  try {
    const [[, fields] = []] = await redis.xrevrange(stream, '+', '-', 'COUNT', 1);
    return fields?.[fields.indexOf('d') + 1] ?? JSON.stringify({ kind: 'statement', occurredAt: new Date().toISOString(), text: 'n=0', publishedAt: new Date().toISOString() });
  } finally {
    redis.disconnect();
  }
}

async function benchTopology(kind) {
  const t0 = performance.now();
  const topology = kind === 'cluster' ? await startRedisCluster() : await startSingleRedis();
  log(`\n== ${kind}: private redis-server on ${topology.ports.join(', ')} (started in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const meter = await createRedisMeter(topology.ports);
  const rows = [];
  const floors = [];
  try {
    for (const count of opts.nodes) rows.push(...(await benchNodes(topology, meter, count)));
    const json = await storedJson(topology);
    for (const subscribers of [...new Set([0, 1, ...opts.nodes])].sort((a, b) => a - b)) {
      const floor = await runFloor({ topology, meter, keyPrefix, story: HOT, json, maxLen: STREAM_MAXLEN, subscribers, publishes: opts.publishes, rate: opts.rate, idleMs: opts.idleMs });
      floors.push({ topology: kind, subscribers, ...floor });
      log(
        `  floor, ${subscribers} subscriber(s): Redis ${floor.redisUs.toFixed(1)} µs/publish (${floor.redisNetUs.toFixed(1)} net of idle), ` +
          `${floor.commands.toFixed(2)} commands/publish, delivered ${floor.delivered}/${floor.expected}`,
      );
    }
  } finally {
    meter.close();
    await topology.stop();
  }
  return { rows, floors };
}

const started = performance.now();
log(
  `bench-scale ${runId}: K = ${opts.ks.join(', ')} stories per node, ${opts.nodes.join(' and ')} node(s), ${opts.topologies.join(' and ')} Redis; ` +
    `${opts.publishes} publishes at ${opts.rate}/s per configuration after ${WARMUP} warm-up, idle window ${opts.idleMs} ms`,
);
const rows = [];
const floors = [];
for (const kind of opts.topologies) {
  const r = await benchTopology(kind);
  rows.push(...r.rows);
  floors.push(...r.floors);
}
log(`\n${report(rows, floors, opts)}`);
log(`\n(${((performance.now() - started) / 1000).toFixed(0)} s in all)`);
