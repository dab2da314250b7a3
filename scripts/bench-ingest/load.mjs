// The load process of the ingest benchmark: sends a fixed number of POSTs with autocannon and
// reports what happened as JSON. The orchestrator (run.mjs) forks it as a separate process so that
// its CPU use is not mixed with the server's; it also runs on its own:
//
//   node scripts/bench-ingest/load.mjs --url http://127.0.0.1:18080/v1/stories/bench/updates
//
// Every request is a different, valid Stoppress statement ("bench update <n>") with the headers
// content-type: application/json, authorization: Bearer <key>, idempotency-key: bench-<run>-<n>.
// <n> keeps counting from the warm-up into the measured run, so no two requests share a key.
//
// Phases: a warm-up (default 2,000 requests, not counted in the figures but reported, since those
// writes are in the stream too), then the measured run (default 40,000 requests).
// With an IPC channel (child_process.fork) it sends `{ type: 'ready' }` after the warm-up and waits
// for `{ type: 'go' }`, so the parent can sample the server right at the start of the measured run;
// at the end it sends `{ type: 'result', result }`. The result JSON is also printed on stdout.
//
// Timing: autocannon only notices the end of an `amount` run at its next sample tick, so its own
// `duration` overstates short runs; the duration here is from the start of the run to the last
// response (and the sample tick is shortened to 50 ms). Latency p50/p99/max come from autocannon's histogram (whole milliseconds, truncated);
// `latencyExactMs` has the same percentiles from the raw per-response times (sub-millisecond).
import autocannon from 'autocannon';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.BENCH_URL },
    amount: { type: 'string', default: process.env.BENCH_AMOUNT ?? '40000' },
    connections: { type: 'string', default: process.env.BENCH_CONNECTIONS ?? '32' },
    warmup: { type: 'string', default: process.env.BENCH_WARMUP ?? '2000' },
    key: { type: 'string', default: process.env.BENCH_KEY ?? 'bench-key' },
    run: { type: 'string', default: process.env.BENCH_RUN ?? Date.now().toString(36) },
    timeout: { type: 'string', default: process.env.BENCH_TIMEOUT ?? '10' },
    help: { type: 'boolean', default: false },
  },
});

if (args.help || !args.url) {
  console.log(`usage: node scripts/bench-ingest/load.mjs --url <http://host:port/path> [options]
  --amount N       measured requests (env BENCH_AMOUNT, default 40000)
  --connections N  concurrent keep-alive connections (env BENCH_CONNECTIONS, default 32)
  --warmup N       uncounted warm-up requests first (env BENCH_WARMUP, default 2000; 0 = none)
  --key K          bearer token (env BENCH_KEY, default bench-key)
  --run R          run id used in idempotency keys bench-<run>-<n> (env BENCH_RUN)
  --timeout S      per-request timeout in seconds (env BENCH_TIMEOUT, default 10)`);
  process.exit(args.help ? 0 : 2);
}

const url = args.url;
const amount = Number(args.amount);
const connections = Number(args.connections);
const warmup = Number(args.warmup);
const timeout = Number(args.timeout);

let n = 0; // request counter shared by all connections and both phases

/** autocannon calls this before each request; it returns the request to send (a new body each time). */
function setupRequest(request) {
  n += 1;
  return {
    ...request,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${args.key}`,
      'idempotency-key': `bench-${args.run}-${n}`,
    },
    body:
      '{"kind":"statement","occurredAt":"2022-02-15T10:00:00+03:00",' +
      `"source":{"name":"Bench","org":"Stoppress"},"text":"bench update ${n}","lang":"en"}`,
  };
}

/** Value at percentile p (0..100) of an ascending-sorted array (nearest rank). */
function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const round = (x, digits = 2) => (x == null ? null : Math.round(x * 10 ** digits) / 10 ** digits);

/** Runs `count` requests; resolves to the figures of that phase. */
function runPhase(count) {
  return new Promise((resolve, reject) => {
    const latencies = new Float64Array(count); // raw 2xx response times in ms
    let recorded = 0;
    const sampleBodies = []; // first few non-2xx answers, to say why requests were refused
    const cpuStart = process.cpuUsage();
    const startedAt = performance.now();
    let lastResponseAt = startedAt;

    const instance = autocannon(
      {
        url,
        method: 'POST',
        connections: Math.min(connections, count),
        amount: count,
        timeout,
        excludeErrorStats: true, // latency histogram of accepted (2xx) requests only
        // autocannon notices that an `amount` run is over only at its next sample tick (default every
        // 1 s); tick often so that the result, and the parent's "after" sample, follow the last response.
        sampleInt: 50,
        requests: [
          {
            setupRequest,
            onResponse(status, body) {
              if ((status < 200 || status > 299) && sampleBodies.length < 3) sampleBodies.push(`${status} ${String(body).slice(0, 300)}`);
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const cpu = process.cpuUsage(cpuStart);
        const durationSec = Math.max(lastResponseAt - startedAt, 1) / 1000; // >= 1 ms, never divide by 0
        const exact = Array.from(latencies.subarray(0, recorded)).sort((a, b) => a - b);
        resolve({
          sent: result.requests.sent,
          ok2xx: result['2xx'],
          non2xx: result.non2xx,
          statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count: c }]) => [code, c])),
          errors: result.errors,
          timeouts: result.timeouts,
          sampleNon2xx: sampleBodies,
          durationSec: round(durationSec, 3),
          updatesPerSec: round(result['2xx'] / durationSec, 0),
          latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
          latencyExactMs: { p50: round(percentile(exact, 50)), p99: round(percentile(exact, 99)), max: round(exact.at(-1)) },
          loadCpu: {
            userMicros: cpu.user,
            systemMicros: cpu.system,
            // CPU time over wall time of the run: 100 % = one core busy the whole time.
            percent: round(((cpu.user + cpu.system) / 1e6 / durationSec) * 100, 1),
          },
        });
      },
    );
    // Arguments: (client, statusCode, resBytes, responseTime in ms).
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      lastResponseAt = performance.now();
      if (statusCode >= 200 && statusCode <= 299 && recorded < count) latencies[recorded++] = responseTime;
    });
  });
}

/** With a parent on IPC: say the warm-up is over and wait for its go-ahead. */
function handshake() {
  if (!process.send) return Promise.resolve();
  return new Promise((resolve) => {
    process.on('message', function onMessage(message) {
      if (message?.type === 'go') {
        process.off('message', onMessage);
        resolve();
      }
    });
    process.send({ type: 'ready' });
  });
}

const warmupResult = warmup > 0 ? await runPhase(warmup) : null;
await handshake();
const measured = await runPhase(amount);

const result = {
  url,
  connections,
  amount,
  run: args.run,
  warmup: warmupResult && {
    sent: warmupResult.sent,
    ok2xx: warmupResult.ok2xx,
    non2xx: warmupResult.non2xx,
    errors: warmupResult.errors,
    sampleNon2xx: warmupResult.sampleNon2xx,
  },
  ...measured,
};

process.stdout.write(`${JSON.stringify(result)}\n`);
if (process.send) process.send({ type: 'result', result }, () => process.disconnect());
