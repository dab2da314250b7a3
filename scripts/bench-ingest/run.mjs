// Ingest benchmark orchestrator: `npm run bench:ingest` (= npm run build && node scripts/bench-ingest/run.mjs).
//
// In each of --rounds rounds (default 3), each target in turn, the floor (floor-server.mjs: bare
// node:http + XADD) and Stoppress (node dist/main.js), the order alternating from round to round:
//   1. delete the target's Redis keys (each run uses its own key prefix, so this is a safety net);
//   2. start the server as a child process on a free port and wait until it answers;
//   3. run load.mjs as a separate process: a warm-up, then a fixed number of POSTs of distinct
//      statements over N keep-alive connections (autocannon);
//   4. right before and after the measured run, sample the server's RSS (/proc/<pid>/status) and
//      CPU time (/proc/<pid>/stat), and Redis's CPU time (INFO cpu);
//   5. stop the server (SIGTERM), then check that the stream received exactly the accepted
//      updates, warm-up included (XINFO STREAM entries-added, and XLEN), and delete the keys.
// Then it prints the command line, versions, a markdown table, per-target details and the verdicts
// (Stoppress/floor throughput ratio >= 0.6, the median of the rounds' ratios; Stoppress >= 8,000
// updates/s with p99 < 20 ms, its medians over the rounds).
// The load generator, the server and Redis share this machine's cores: the figures are relative
// to this machine, which is why the floor is measured in the same run.
//
// Options: node scripts/bench-ingest/run.mjs --help (see options.mjs).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { runLoad } from './load-child.mjs';
import { HELP, parseOptions } from './options.mjs';
import { sampleMachine, sampleProcess } from './proc-stats.mjs';
import { deleteKeysWithPrefix, redisCpuSeconds, redisVersion, streamCounts } from './redis-checks.mjs';
import { details, table, verdicts, writeCheck } from './report.mjs';
import { freePort, startServer, stopServer, waitUntilReady } from './server-process.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const log = (message) => process.stderr.write(`[bench-ingest] ${message}\n`);

let options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  console.error(`${error.message}\n(see node scripts/bench-ingest/run.mjs --help)`);
  process.exit(2);
}
if (options.help) {
  console.log(HELP);
  process.exit(0);
}

// One id per run: with the round, it names the Redis key prefixes and the idempotency keys
// (bench-<run>r<round>-<n>), so that rounds never share keys (--keep keeps them all).
const run = Date.now().toString(36);

/** How to start each target, where it writes (its run id names keys and idempotency keys), and how to tell it is ready. */
function targetSpec(name, round) {
  const id = `${run}r${round}`;
  const common = { HOST: '127.0.0.1', REDIS_URL: options.redisUrl };
  if (name === 'floor') {
    const keyPrefix = `bench-floor-${id}:`;
    const streamKey = `${keyPrefix}{${options.story}}:updates`;
    return {
      id,
      entry: 'scripts/bench-ingest/floor-server.mjs',
      port: options.floorPort,
      keyPrefix,
      streamKey,
      env: { ...common, STREAM_KEY: streamKey },
    };
  }
  const keyPrefix = `bench-${id}:`;
  const streamKey = `${keyPrefix}story:{${options.story}}:updates`;
  return {
    id,
    entry: options.stoppressEntry,
    port: options.stoppressPort,
    keyPrefix,
    streamKey,
    env: {
      ...common,
      PUBLISHER_KEYS: options.key,
      DEMO: 'off',
      LOG_LEVEL: 'warn',
      REDIS_KEY_PREFIX: keyPrefix,
      // Read only by floor-server.mjs when it stands in for Stoppress (--stoppress-entry), so that
      // it writes where Stoppress would; Stoppress itself ignores it.
      STREAM_KEY: streamKey,
    },
  };
}

// Children alive right now and the key prefix in use, so that Ctrl-C can stop and clean up.
const live = { server: null, load: null, keyPrefix: null };

/** Benchmarks one target; resolves to its result (status 'ok', 'failed' or 'skipped'). */
async function benchTarget(redis, name, round) {
  const spec = targetSpec(name, round);
  const result = { target: name, round, entry: spec.entry, status: 'ok' };
  if (!existsSync(path.resolve(ROOT, spec.entry))) {
    return { ...result, status: 'skipped', reason: `${spec.entry} not found (npm run build?)` };
  }

  live.keyPrefix = spec.keyPrefix;
  const stale = await deleteKeysWithPrefix(redis, spec.keyPrefix);
  if (stale > 0) log(`${name}: deleted ${stale} leftover keys under ${spec.keyPrefix}`);
  const port = spec.port || (await freePort());
  result.port = port;
  log(`${name}: starting node ${spec.entry} on port ${port}`);
  const server = startServer({ entry: spec.entry, cwd: ROOT, env: { ...spec.env, PORT: String(port) } });
  live.server = server;
  try {
    await waitUntilReady(server, `http://127.0.0.1:${port}${name === 'floor' ? '/' : '/readyz'}`);
    log(`${name}: ready (pid ${server.pid}); ${options.warmup} warm-up + ${options.amount} measured POSTs over ${options.connections} connections`);

    const sampleServer = () => {
      if (server.child.exitCode !== null || server.child.signalCode !== null) throw new Error('the server exited during the run');
      return sampleProcess(server.pid);
    };
    let before, after, machineBefore, machineAfter, redisBefore, redisAfter;
    const load = await runLoad(
      {
        url: `http://127.0.0.1:${port}/v1/stories/${options.story}/updates`,
        amount: options.amount,
        connections: options.connections,
        warmup: options.warmup,
        key: options.key,
        run: spec.id,
        timeout: options.timeout,
      },
      {
        atStart: async () => {
          before = sampleServer();
          machineBefore = sampleMachine();
          redisBefore = await redisCpuSeconds(redis);
        },
        atEnd: async () => {
          after = sampleServer();
          machineAfter = sampleMachine();
          redisAfter = await redisCpuSeconds(redis);
        },
        onChild: (child) => (live.load = child),
      },
    );
    live.load = null;
    const cpuSeconds = after.cpuSeconds - before.cpuSeconds;
    result.load = load;
    result.server = { before, after, cpuSeconds, cpuMicrosPerUpdate: load.ok2xx ? (cpuSeconds * 1e6) / load.ok2xx : null };
    result.redisCpuMicrosPerUpdate = load.ok2xx ? ((redisAfter - redisBefore) * 1e6) / load.ok2xx : null;
    // Where the machine's CPU went during the measured run, in cores (1.0 = one core busy throughout).
    const wallSeconds = (after.at - before.at) / 1000;
    const loadSeconds = (load.loadCpu.userMicros + load.loadCpu.systemMicros) / 1e6;
    const machineBusy = machineAfter.busySeconds - machineBefore.busySeconds;
    result.cores = {
      total: os.cpus().length,
      busy: machineBusy / wallSeconds,
      server: cpuSeconds / wallSeconds,
      load: loadSeconds / wallSeconds,
      redis: (redisAfter - redisBefore) / wallSeconds,
      // Everything else: other processes, plus kernel time not charged to a process (e.g. loopback softirq).
      rest: (machineBusy - cpuSeconds - loadSeconds - (redisAfter - redisBefore)) / wallSeconds,
      steal: (machineAfter.stealSeconds - machineBefore.stealSeconds) / wallSeconds,
    };
    log(`${name}: ${load.ok2xx} accepted in ${load.durationSec} s (${load.updatesPerSec} updates/s)`);
  } catch (error) {
    Object.assign(result, { status: 'failed', reason: error.message, log: server.tail() });
  } finally {
    // Stop first, so that whatever the server still had in flight has reached Redis before counting.
    const exit = await stopServer(server);
    live.server = null;
    if (exit.killed) log(`${name}: did not exit within 5 s of SIGTERM; killed`);
  }

  if (result.status === 'ok') {
    const stream = { key: spec.streamKey, ...(await streamCounts(redis, spec.streamKey)) };
    result.writes = { ...writeCheck(stream, result.load), stream };
  }
  if (!options.keep) await deleteKeysWithPrefix(redis, spec.keyPrefix);
  live.keyPrefix = null;
  return result;
}

/** The lines that say what was run, where, and with which versions. */
function header(redisVer) {
  const autocannonPkg = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/autocannon/package.json'), 'utf8'));
  const script = path.relative(process.cwd(), process.argv[1]) || process.argv[1];
  const npm = process.env.npm_lifecycle_event ? ` (via npm run ${process.env.npm_lifecycle_event})` : '';
  const cpus = os.cpus();
  return [
    '## Stoppress ingest benchmark',
    '',
    `- command: node ${[script, ...process.argv.slice(2)].join(' ')}${npm}`,
    `- run ${run}: ${options.amount.toLocaleString('en-US')} measured POSTs per target after ${options.warmup.toLocaleString('en-US')} warm-up, ` +
      `${options.connections} connections, targets ${options.targets.join(', ')}, ${options.rounds} round(s) alternating which goes first`,
    `- node ${process.version}, redis ${redisVer} (${options.redisUrl}), autocannon ${autocannonPkg.version}`,
    `- machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${os.type()} ${os.release()}; ` +
      'load generator, server and Redis share these cores',
    '',
  ].join('\n');
}

const redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
try {
  await redis.connect();
} catch (error) {
  console.error(`cannot reach Redis at ${options.redisUrl}: ${error.message}`);
  process.exit(1);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    live.load?.kill('SIGTERM');
    live.server?.child.kill('SIGTERM');
    const cleanup = live.keyPrefix && !options.keep ? deleteKeysWithPrefix(redis, live.keyPrefix) : Promise.resolve();
    const deadline = new Promise((resolve) => setTimeout(resolve, 2000));
    Promise.race([cleanup, deadline]).finally(() => process.exit(130));
  });
}

const redisVer = await redisVersion(redis);
// Rounds alternate which target goes first, so that neither always runs on the warmer (or busier) machine.
const rounds = [];
for (let round = 0; round < options.rounds; round++) {
  const order = round % 2 === 0 ? options.targets : [...options.targets].reverse();
  const results = [];
  for (const target of order) results.push(await benchTarget(redis, target, round + 1));
  rounds.push(results);
}
await redis.quit();
const results = rounds.flat();

console.log(header(redisVer));
console.log(table(results));
console.log('');
for (const r of results) console.log(details(r).join('\n'));
console.log('');
console.log(verdicts(rounds).join('\n'));

if (options.json) {
  writeFileSync(options.json, `${JSON.stringify({ run, options, node: process.version, redis: redisVer, rounds }, null, 2)}\n`);
  log(`figures written to ${options.json}`);
}

const allGood = results.every((r) => r.status === 'ok' && r.writes.ok);
process.exit(allGood ? 0 : 1);
