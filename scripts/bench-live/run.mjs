// WebSocket fan-out benchmark (`npm run bench`; `--help` for options).
//
// For each target (floor, Socket.IO, Stoppress), in turn:
//   1. start the server as a child process and wait for `GET /readyz` = 200, then sample its RSS
//      (the "before connecting" baseline);
//   2. fork the load process (load.mjs), which connects and subscribes every socket; when it says so,
//      wait a moment and sample the server's RSS again: KiB per idle connection is the difference ÷ N;
//   3. at the load's 'window-start' and 'window-end' (just before the first measured publish and after
//      the last measured delivery) sample the server's CPU time (utime + stime from /proc) and RSS:
//      server CPU µs per delivered message = CPU time in the window ÷ deliveries in the window;
//   4. collect the load's result, stop the server.
// The floor and Stoppress run `--rounds` times (default 3) in pairs, alternating which goes first, because
// this shared 2-core machine moves either one's CPU per message by about ±10 % from one minute to the next:
// the table shows each target's medians and each Stoppress ÷ floor ratio is the median of the pairs' ratios
// (a pair ran under the same conditions). Socket.IO, a reference without targets, runs once.
// Then drop the run's Redis keys and print one markdown table and the ratios of Stoppress to the
// floor and to Socket.IO.
//
// Also watched during the window, because the machine has 2 cores: Redis's CPU (real work for
// Socket.IO and Stoppress, reported apart) and the CPU of everything else on the machine that is not
// ours (another build or test run skews latency; the run warns when it happened).
import { readOptions } from './options.mjs';
import { serverSpec, LABELS } from './targets.mjs';
import { freePort, startServer, waitReady, stopServer, runLoad } from './child.mjs';
import { sample, rssBytes, CLK_TCK } from './proc-stats.mjs';
import { deleteKeys, redisPid } from './redis-admin.mjs';
import { table, ratios, medianRow } from './report.mjs';

const BASELINE_SETTLE_MS = 1_000; // after ready, before the "no connections" RSS sample
const IDLE_SETTLE_MS = 2_000; // after the last subscribe, before the "N idle connections" RSS sample
const FOREIGN_CPU_WARN = 15; // % of a core used by processes not ours during the window

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;
const fmtMiB = (bytes) => `${(bytes / MiB).toFixed(1)} MiB`;

/** Runs one target end to end; returns its table row. */
async function benchTarget(name, opts, ctx) {
  const port = await freePort();
  console.log(`\n== ${LABELS[name]} on 127.0.0.1:${port}`);
  const server = startServer(serverSpec(name, { port, redisUrl: opts.redisUrl, keyPrefix: ctx.keyPrefix }), name);
  try {
    await waitReady(server, port);
    await sleep(BASELINE_SETTLE_MS);
    const rssBefore = rssBytes(server.pid);

    let rssIdle, start, end;
    const cfg = { target: name, host: '127.0.0.1', port, subs: opts.subs, stories: opts.stories, rate: opts.rate, seconds: opts.seconds, warmup: opts.warmup };
    const res = await runLoad(cfg, {
      subscribed: async () => {
        await sleep(IDLE_SETTLE_MS);
        rssIdle = rssBytes(server.pid);
        return { type: 'go' };
      },
      'window-start': () => ((start = sample(server.pid, ctx.redisPid)), { type: 'ok' }),
      'window-end': () => ((end = sample(server.pid, ctx.redisPid)), { type: 'ok' }),
    });

    const wallUs = (end.at - start.at) * 1000;
    const serverUs = end.cpuUs - start.cpuUs;
    const redisUs = end.redisUs - start.redisUs;
    const loadUs = (res.loadCpuPercent / 100) * res.windowMs * 1000;
    const foreignUs = end.machineUs - start.machineUs - serverUs - loadUs - (Number.isFinite(redisUs) ? redisUs : 0);
    const pct = (us) => (us / wallUs) * 100;
    const row = {
      name,
      ...res,
      rssMiB: end.rss / MiB,
      kibPerConn: (rssIdle - rssBefore) / 1024 / opts.subs,
      cpuUsPerMsg: serverUs / res.delivered,
      foreignCpuPercent: Math.max(0, pct(foreignUs)),
    };
    console.log(
      `  server: RSS ${fmtMiB(rssBefore)} before connecting, ${fmtMiB(rssIdle)} with ${opts.subs} idle sockets, ` +
        `${fmtMiB(start.rss)} → ${fmtMiB(end.rss)} over the publish phase; ` +
        `CPU ${(serverUs / 1e6).toFixed(2)} s in ${(res.windowMs / 1000).toFixed(1)} s (${pct(serverUs).toFixed(0)}% of a core) ` +
        `for ${res.delivered} deliveries of ${res.published} publishes`,
    );
    console.log(
      `  one publish to all: ${res.allTimes.map((t) => t.toFixed(0)).join(', ')} ms; ` +
        `Redis CPU in the window: ${Number.isFinite(redisUs) ? `${pct(redisUs).toFixed(0)}% of a core${res.delivered ? ` (${(redisUs / res.delivered).toFixed(2)} µs/msg)` : ''}` : 'unknown'}; ` +
        `processes not ours: ${row.foreignCpuPercent.toFixed(0)}% of a core`,
    );
    if (row.foreignCpuPercent > FOREIGN_CPU_WARN) {
      console.log('  WARNING: other processes competed for the 2 cores during the window; latency figures are likely inflated');
    }
    return row;
  } catch (err) {
    console.log(`  ${name} failed: ${err.message}`);
    return { name, error: err.message };
  } finally {
    await stopServer(server);
  }
}

let opts;
try {
  opts = readOptions();
} catch (err) {
  console.error(`${err.message}\n(see --help)`);
  process.exit(2);
}
const runId = Date.now().toString(36);
const ctx = {
  keyPrefix: `bench-live-${runId}:`,
  redisPid: opts.only.some((n) => n !== 'floor') ? await redisPid(opts.redisUrl).catch(() => null) : null,
};
console.log(
  `bench-live ${runId}: ${opts.subs} sockets over ${opts.stories} stories (+ "all"), ${opts.rate} publishes/s, ` +
    `${opts.warmup} s warm-up + ${opts.seconds} s measured; targets: ${opts.only.join(', ')} (CLK_TCK ${CLK_TCK})`,
);

/** The order of the runs: round r runs the floor and Stoppress (Stoppress first in every other round), Socket.IO after round 1. */
function schedule({ only, rounds }) {
  const paired = only.filter((n) => n !== 'socketio');
  const order = [];
  for (let round = 0; round < rounds; round++) {
    order.push(...(round % 2 ? [...paired].reverse() : paired));
    if (round === 0 && only.includes('socketio')) order.push('socketio');
  }
  return order;
}

/** Rows of every run, by target, in run order. */
const runs = Object.fromEntries(opts.only.map((n) => [n, []]));
try {
  for (const name of schedule(opts)) runs[name].push(await benchTarget(name, opts, ctx));
} finally {
  if (opts.only.some((n) => n !== 'floor')) {
    const n = await deleteKeys(opts.redisUrl, ctx.keyPrefix).catch((err) => (console.log(`Redis cleanup failed: ${err.message}`), 0));
    console.log(`\nremoved ${n} Redis keys with prefix ${ctx.keyPrefix}`);
  }
}

const rows = opts.only.map((name) => medianRow(runs[name]));
console.log(`\n${table(rows)}\n`);
if (opts.rounds > 1) console.log(`(floor and Stoppress: medians of ${opts.rounds} runs each; exactly once in every run)\n`);
const r = ratios(runs);
if (r) console.log(`${r}\n`);
process.exitCode = rows.some((row) => row.error) ? 1 : 0;
