// Scale-out benchmark (`npm run bench:scale`; `--help` for options). See README.md next to this file.
//
// For each topology (single redis-server, 3-master Redis Cluster):
//   one system per node count (1, 4): that many `node dist/main.js` nodes on a private Redis of its own;
//     for each K (1, 100, 1,000, 10,000): every node's sockets follow K stories (100 per socket; story s-0, the
//       published one, on socket 0 of every node); warm up; then rounds, interleaved over the systems (round 1
//       of each system, then round 2 of each…), each an idle window, a Stoppress publish window (publishes over
//       real HTTP, round-robin over the system's nodes, until every socket following s-0 has them all) and the
//       floor's (XADD + SPUBLISH pipelined, with as many SSUBSCRIBEd subscriber processes as nodes): what is
//       compared ran under the same load of this shared machine;
//   then, every node stopped, the floor with 0 and with 1 subscriber, and with its publishes from 1 and from 4
//   publisher processes in turn, alternating: the cost of one more subscriber, and of ingest spread over nodes.
// Then print the markdown tables and the targets.
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, startServer, waitReady, stopServer } from '../bench-live/child.mjs';
import { createPublisher } from '../bench-live/publisher.mjs';
import { publishRequest } from '../bench-live/clients/stoppress.mjs';
import { startSingleRedis, startRedisCluster, pinRedisTo } from './redis-procs.mjs';
import { createRedisMeter } from './redis-meter.mjs';
import { openLiveSocket, audit } from './live-sockets.mjs';
import { atRate, measureRound, perPublish, medianOfRounds, median } from './phase.mjs';
import { createFloor } from './floor.mjs';
import { report } from './report.mjs';

const HELP = `npm run bench:scale [-- options]
  --publishes N    measured publishes per configuration (default 300)
  --rate N         publishes per second (default 200)
  --ks LIST        stories followed per node (default 1,100,1000,10000)
  --nodes LIST     node counts (default 1,4)
  --topologies L   single,cluster (default both)
  --rounds N       measured rounds per configuration; figures are the medians (default 5)
  --idle-ms N      idle window measured before each publish window (default 1000)
  --ingest MODE    round-robin (default): publishes go to the system's nodes in turn; one: all through its first
                   node (the others only deliver)
  --redis-cpus L   run the private Redis processes on these CPUs (taskset, e.g. 1) and everything else on
                   the others, as if Redis had a machine of its own (default: all share every CPU)`;

const { values: args } = parseArgs({
  options: {
    publishes: { type: 'string', default: '300' },
    rate: { type: 'string', default: '200' },
    ks: { type: 'string', default: '1,100,1000,10000' },
    nodes: { type: 'string', default: '1,4' },
    topologies: { type: 'string', default: 'single,cluster' },
    rounds: { type: 'string', default: '5' },
    'idle-ms': { type: 'string', default: '1000' },
    'redis-cpus': { type: 'string' },
    ingest: { type: 'string', default: 'round-robin' },
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
  rounds: Number(args.rounds),
  idleMs: Number(args['idle-ms']),
  ingest: args.ingest,
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

/**
 * A system under test: `count` nodes on a private `topology` of its own, with its meter, its publisher
 * (round-robin over its nodes) and, once the first K is measured, its floor rig with `count` subscribers.
 */
async function startSystem(kind, count) {
  const topology = kind === 'cluster' ? await startRedisCluster() : await startSingleRedis();
  const meter = await createRedisMeter(topology.ports);
  const nodes = [];
  const system = { kind, count, topology, meter, nodes, published: 0, failures: 0, floor: undefined };
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const child = startServer(nodeSpec(port, topology), `${count}n-node${i}`);
    nodes.push({ port, child, sockets: [], publish: createPublisher('127.0.0.1', port) });
  }
  await Promise.all(nodes.map((n) => waitReady(n.child, n.port)));
  system.pids = nodes.map((n) => n.child.pid);
  system.publishOne = async () => {
    const k = system.published++;
    const node = opts.ingest === 'one' ? nodes[0] : nodes[k % nodes.length];
    const status = await node.publish(publishRequest(HOT, `n=${k}`)).catch(() => 0);
    if (status !== 201) system.failures++;
  };
  system.sockets = () => nodes.flatMap((n) => n.sockets);
  system.drain = async (from, to) => {
    const deadline = performance.now() + DRAIN_TIMEOUT_MS;
    while (audit(system.sockets(), from, to).missing > 0 && performance.now() < deadline) await sleep(2);
  };
  let nodesStopped = false;
  system.stopNodes = async () => {
    if (nodesStopped) return;
    nodesStopped = true;
    system.floor?.close();
    for (const n of nodes) {
      n.sockets.forEach((socket) => socket.close());
      n.publish.close();
    }
    await Promise.all(nodes.map((n) => stopServer(n.child)));
  };
  system.stop = async () => {
    await system.stopNodes();
    meter.close();
    await topology.stop();
  };
  log(`  ${kind}: ${count} node(s) on private redis-server ${topology.ports.join(', ')}`);
  return system;
}

/**
 * Measures every system at K stories per node. The systems' rounds are interleaved (round 1 of each, then
 * round 2 of each…), so configurations compared with each other (1 node and 4 nodes) ran under the same load of
 * this shared machine, minutes of drift apart no more; each round is an idle window, the Stoppress publish
 * window, then the floor's with as many subscribers as the system has nodes.
 */
async function measureK(systems, k, ctx) {
  for (const system of systems) {
    const t0 = performance.now();
    const retriesBefore = system.sockets().reduce((sum, s) => sum + s.retries, 0);
    await followK(system.nodes, k);
    system.retries = system.sockets().reduce((sum, s) => sum + s.retries, 0) - retriesBefore;
    log(
      `  ${system.kind}, ${system.count} node(s), K=${k}: ${system.sockets().length} sockets subscribed in ${((performance.now() - t0) / 1000).toFixed(1)} s` +
        `${system.retries ? ` (${system.retries} subscriptions refused with redis_unavailable and sent again)` : ''}`,
    );
    const warm = system.published;
    await atRate(WARMUP, opts.rate, system.publishOne);
    await system.drain(warm, system.published);
    ctx.json ??= await storedJson(system.topology);
    system.floor ??= await createFloor({ topology: system.topology, keyPrefix, story: HOT, json: ctx.json, maxLen: STREAM_MAXLEN, subscribers: system.count });
    system.from = system.published;
    system.failures = 0;
    system.ours = [];
    system.floors = [];
  }
  await sleep(200);
  for (let round = 0; round < opts.rounds; round++) {
    for (const system of systems) {
      const roundFrom = system.published;
      const { idle, windows } = await measureRound({
        meter: system.meter,
        pids: system.pids,
        idleMs: opts.idleMs,
        windows: [
          async () => {
            await atRate(opts.publishes, opts.rate, system.publishOne);
            await system.drain(roundFrom, system.published);
          },
          () => system.floor.window(opts.publishes, opts.rate),
        ],
      });
      system.ours.push(perPublish(idle, windows[0], opts.publishes));
      system.floors.push(perPublish(idle, windows[1], opts.publishes));
    }
  }
  return systems.map((system) => {
    const { ours, floors } = system;
    const sockets = system.sockets();
    const a = audit(sockets, system.from, system.published);
    const closed = sockets.filter((s) => s.closed).length;
    const strays = sockets.reduce((sum, s) => sum + s.strays, 0);
    const row = {
      topology: system.kind,
      nodes: system.count,
      k,
      sockets: sockets.length,
      retries: system.retries,
      ...medianOfRounds(ours),
      floorNetUs: median(floors.map((f) => f.redisNetUs)),
      floorUs: median(floors.map((f) => f.redisUs)),
      floorRatio: median(ours.map((r, i) => r.redisNetUs / floors[i].redisNetUs)),
      floorRatioGross: median(ours.map((r, i) => r.redisUs / floors[i].redisUs)),
      ...a,
      failures: system.failures,
      closed,
      strays,
    };
    log(
      `  ${system.kind}, ${system.count} node(s), K=${k}: Redis ${row.redisUs.toFixed(1)} µs/publish (${row.redisNetUs.toFixed(1)} net of idle ${(row.idleRedisUsPerSec / 1000).toFixed(1)} ms/s) ` +
        `[rounds, net: ${row.redisNetUsPerRound.map((v) => v.toFixed(0)).join(', ')}; floor ${floors.map((f) => f.redisNetUs.toFixed(0)).join(', ')}], ` +
        `${row.commands.toFixed(2)} commands/publish, nodes ${row.nodeUs.toFixed(0)} µs/publish, delivered ${a.delivered}/${a.expected}` +
        `${a.duplicates ? `, ${a.duplicates} duplicates` : ''}${system.failures ? `, ${system.failures} failed publishes` : ''}${closed ? `, ${closed} sockets closed` : ''}`,
    );
    log(`    per publish: ${row.breakdown.map(([name, calls, usec]) => `${name} ${calls.toFixed(2)}× ${usec.toFixed(1)} µs`).join(', ')}`);
    if (row.idleBreakdown.length) log(`    idle, per second: ${row.idleBreakdown.map(([name, perSec]) => `${name} ${perSec.toFixed(1)}`).join(', ')}`);
    return row;
  });
}

/** The update JSON Stoppress stored last for the hot story: the floor publishes a payload of the same size. */
async function storedJson(topology) {
  const stream = `${keyPrefix}story:{${HOT}}:updates`;
  const redis = new Redis({ host: '127.0.0.1', port: topology.masterFor(stream) });
  try {
    const [[, fields]] = await redis.xrevrange(stream, '+', '-', 'COUNT', 1);
    return fields[fields.indexOf('d') + 1];
  } finally {
    redis.disconnect();
  }
}

/**
 * The floor's cost of one more subscriber, and of publishes that arrive through several client processes in
 * turn instead of one: rounds of (idle, then four floor windows: no subscriber; one subscriber; no subscriber
 * from one publisher process; no subscriber from as many publisher processes as the largest system has nodes,
 * taking turns), answering the median figures of each and the median per-round differences. The windows take
 * turns to go first after the idle one, over 2 × rounds + 1 rounds: the differences are small beside each
 * figure, and the first one sets the 4-node target.
 */
async function floorSubscriberCost(topology, meter, ctx) {
  const spreadOver = Math.max(...opts.nodes);
  const rig = (subscribers, publisherProcesses = 0) => createFloor({ topology, keyPrefix, story: HOT, json: ctx.json, maxLen: STREAM_MAXLEN, subscribers, publisherProcesses });
  const rigs = [await rig(0), await rig(1), await rig(0, 1), await rig(0, spreadOver)];
  try {
    const perRig = rigs.map(() => []);
    for (let round = 0; round < 2 * opts.rounds + 1; round++) {
      const order = rigs.map((_, i) => (i + round) % rigs.length);
      const { idle, windows } = await measureRound({ meter, pids: [], idleMs: opts.idleMs, windows: order.map((i) => () => rigs[i].window(opts.publishes, opts.rate)) });
      order.forEach((i, at) => perRig[i].push(perPublish(idle, windows[at], opts.publishes)));
    }
    const [r0, r1, solo, spread] = perRig;
    const label = ['0', '1', '0, 1 publisher process', `0, ${spreadOver} publisher processes in turn`];
    const floors = rigs.map((f, i) => ({ topology: topology.kind, subscribers: i === 1 ? 1 : 0, label: label[i], ...medianOfRounds(perRig[i]), delivered: f.delivered, expected: f.expected }));
    const difference = (a, b) => ({ net: median(a.map((r, i) => r.redisNetUs - b[i].redisNetUs)), gross: median(a.map((r, i) => r.redisUs - b[i].redisUs)) });
    const perSubscriber = difference(r1, r0);
    const spreadCost = { ...difference(spread, solo), publishers: spreadOver };
    for (const f of floors) {
      log(
        `  floor, subscribers ${f.label}: Redis ${f.redisUs.toFixed(1)} µs/publish (${f.redisNetUs.toFixed(1)} net of idle) ` +
          `[rounds, net: ${f.redisNetUsPerRound.map((v) => v.toFixed(0)).join(', ')}], ${f.commands.toFixed(2)} commands/publish, delivered ${f.delivered}/${f.expected}`,
      );
    }
    log(`  floor: one subscriber − none = ${perSubscriber.net.toFixed(1)} µs/publish net (${perSubscriber.gross.toFixed(1)} gross), median of per-round differences`);
    log(`  floor: ${spreadOver} publisher processes − 1 = ${spreadCost.net.toFixed(1)} µs/publish net (${spreadCost.gross.toFixed(1)} gross), median of per-round differences`);
    return { floors, perSubscriber, spreadCost };
  } finally {
    rigs.forEach((f) => f.close());
  }
}

async function benchTopology(kind) {
  log(`\n== ${kind}: one private Redis per node count, measured side by side`);
  const systems = [];
  const ctx = { json: undefined };
  const rows = [];
  try {
    for (const count of opts.nodes) systems.push(await startSystem(kind, count));
    for (const k of opts.ks) rows.push(...(await measureK(systems, k, ctx)));
    for (const system of systems) {
      if (system.floor.delivered !== system.floor.expected) log(`  WARNING: the floor's subscribers got ${system.floor.delivered} of ${system.floor.expected} messages`);
    }
    // The floor's cost of one more subscriber, alone on the first system's Redis (every node stopped).
    for (const system of systems) await system.stopNodes();
    const { floors, perSubscriber, spreadCost } = await floorSubscriberCost(systems[0].topology, systems[0].meter, ctx);
    rows.sort((a, b) => a.nodes - b.nodes || a.k - b.k);
    return { rows, floors, perSubscriber: { [kind]: perSubscriber }, spreadCost: { [kind]: spreadCost } };
  } finally {
    for (const system of systems) await system.stop();
  }
}

if (args['redis-cpus'] !== undefined) {
  // This process (and so every node, socket and floor process it starts) on the other CPUs, Redis on these.
  const redisSet = new Set(list(args['redis-cpus']).map(Number));
  const others = Array.from({ length: availableParallelism() }, (_, cpu) => cpu).filter((cpu) => !redisSet.has(cpu));
  if (others.length === 0) {
    console.error('--redis-cpus leaves no CPU for the nodes');
    process.exit(2);
  }
  execFileSync('taskset', ['-a', '-p', '-c', others.join(','), String(process.pid)], { stdio: 'ignore' });
  pinRedisTo([...redisSet].join(','));
}
const started = performance.now();
log(
  `bench-scale ${runId}: K = ${opts.ks.join(', ')} stories per node, ${opts.nodes.join(' and ')} node(s), ${opts.topologies.join(' and ')} Redis; ` +
    `${opts.rounds} rounds of ${opts.publishes} publishes at ${opts.rate}/s per configuration after ${WARMUP} warm-up, idle window ${opts.idleMs} ms before each`,
);
if (args['redis-cpus'] !== undefined) log(`Redis on CPU ${args['redis-cpus']}, everything else on the other CPUs (--redis-cpus)`);
log(`load average at the start: ${loadavg().map((l) => l.toFixed(2)).join(', ')} (2 cores, shared: Redis CPU per publish is noisy under contention)`);
const rows = [];
const floors = [];
const perSubscriber = {};
const spreadCost = {};
for (const kind of opts.topologies) {
  const r = await benchTopology(kind);
  rows.push(...r.rows);
  floors.push(...r.floors);
  Object.assign(perSubscriber, r.perSubscriber);
  Object.assign(spreadCost, r.spreadCost);
}
log(`\n${report(rows, floors, perSubscriber, spreadCost, opts)}`);
log(`\n(${((performance.now() - started) / 1000).toFixed(0)} s in all; load average at the end ${loadavg().map((l) => l.toFixed(2)).join(', ')})`);
