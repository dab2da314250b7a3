// Command-line options of the ingest benchmark orchestrator (run.mjs), with environment fallbacks,
// and the --help text. Every option has a default that keeps the whole run well under a minute.
import { parseArgs } from 'node:util';

export const HELP = `Stoppress ingest benchmark: POST throughput and latency of Stoppress against a bare
node:http + XADD floor, on the same machine and Redis.

usage: npm run bench:ingest [-- options]        (builds first)
       node scripts/bench-ingest/run.mjs [options]  (uses the existing dist/)

options (environment fallback in brackets):
  --amount N           measured POSTs per target [BENCH_AMOUNT] (default 40000)
  --connections N      concurrent keep-alive connections [BENCH_CONNECTIONS] (default 32)
  --warmup N           uncounted warm-up POSTs before the measured run [BENCH_WARMUP] (default 2000)
  --targets LIST       comma-separated, run in this order: floor,stoppress [BENCH_TARGETS]
  --rounds N           rounds of the targets, alternating which goes first [BENCH_ROUNDS] (default 3);
                       the verdicts use the median of the rounds' ratios and Stoppress's medians
  --redis-url URL      Redis for both servers [REDIS_URL] (default redis://127.0.0.1:6379)
  --floor-port N       port for the floor server [FLOOR_PORT] (default: a free port)
  --stoppress-port N   port for Stoppress [STOPPRESS_PORT] (default: a free port)
  --stoppress-entry F  Stoppress entry point, relative to the repo root [BENCH_STOPPRESS_ENTRY]
                       (default dist/main.js; pass scripts/bench-ingest/floor-server.mjs to
                       dry-run the orchestration with the floor standing in for Stoppress)
  --story ID           story to post to [BENCH_STORY] (default bench)
  --key K              publisher key (PUBLISHER_KEYS / bearer token) [BENCH_KEY] (default bench-key)
  --timeout S          per-request timeout in seconds [BENCH_TIMEOUT] (default 10)
  --keep               keep the benchmark's Redis keys afterwards (default: delete them)
  --json FILE          also write all figures as JSON to FILE
  -h, --help           show this help

The floor server uses plain ioredis; AUTO_PIPELINING=1 in the environment turns on ioredis
auto-pipelining in it (Stoppress's own command connection uses auto-pipelining).

Each target, in each round: flush its keys (unique prefix per run), start the server, wait until it answers,
run load.mjs (a separate process: warm-up, then the measured run), sample the server's RSS and
CPU from /proc before/after the measured run, check via XINFO/XLEN that the stream holds every
accepted update, stop the server (SIGTERM). Then print a markdown table and the verdicts:
Stoppress/floor throughput ratio (target >= 0.6; the median of the rounds' ratios, each round's
pair having run under the same load of this shared machine) and ">= 8,000 updates/s with p99 <
20 ms" (Stoppress's medians over the rounds).
Exit status 1 if a target could not be run or its writes did not add up.`;

const intOption = (name, raw, min) => {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
};

/** Parses argv (without node and script) into the options object; `{ help: true }` for --help. */
export function parseOptions(argv) {
  const env = process.env;
  const { values } = parseArgs({
    args: argv,
    options: {
      amount: { type: 'string', default: env.BENCH_AMOUNT ?? '40000' },
      connections: { type: 'string', default: env.BENCH_CONNECTIONS ?? '32' },
      warmup: { type: 'string', default: env.BENCH_WARMUP ?? '2000' },
      targets: { type: 'string', default: env.BENCH_TARGETS ?? 'floor,stoppress' },
      rounds: { type: 'string', default: env.BENCH_ROUNDS ?? '3' },
      'redis-url': { type: 'string', default: env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
      'floor-port': { type: 'string', default: env.FLOOR_PORT ?? '0' },
      'stoppress-port': { type: 'string', default: env.STOPPRESS_PORT ?? '0' },
      'stoppress-entry': { type: 'string', default: env.BENCH_STOPPRESS_ENTRY ?? 'dist/main.js' },
      story: { type: 'string', default: env.BENCH_STORY ?? 'bench' },
      key: { type: 'string', default: env.BENCH_KEY ?? 'bench-key' },
      timeout: { type: 'string', default: env.BENCH_TIMEOUT ?? '10' },
      keep: { type: 'boolean', default: false },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { help: true };

  const targets = values.targets.split(',').map((t) => t.trim()).filter(Boolean);
  for (const target of targets) {
    if (target !== 'floor' && target !== 'stoppress') throw new Error(`unknown target "${target}" (known: floor, stoppress)`);
  }
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(values.story)) throw new Error(`--story "${values.story}" is not a valid story id`);

  const options = {
    amount: intOption('amount', values.amount, 1),
    connections: intOption('connections', values.connections, 1),
    warmup: intOption('warmup', values.warmup, 0),
    targets,
    rounds: intOption('rounds', values.rounds, 1),
    redisUrl: values['redis-url'],
    floorPort: intOption('floor-port', values['floor-port'], 0),
    stoppressPort: intOption('stoppress-port', values['stoppress-port'], 0),
    stoppressEntry: values['stoppress-entry'],
    story: values.story,
    key: values.key,
    timeout: intOption('timeout', values.timeout, 1),
    keep: values.keep,
    json: values.json,
  };
  if (options.connections > options.amount) throw new Error('--connections cannot exceed --amount');
  return options;
}
