// Command-line options of `node scripts/bench-live/run.mjs` (also reached through `npm run bench -- ...`).
import { parseArgs } from 'node:util';

export const TARGET_NAMES = ['floor', 'socketio', 'stoppress'];

const HELP = `Usage: npm run bench -- [options]     (or: node scripts/bench-live/run.mjs [options])

WebSocket fan-out benchmark: a bare ws server (floor), Socket.IO 4 + Redis Streams adapter,
and Stoppress, each driven by the same separate load process.

Options:
  --subs <n>        WebSocket connections opened by the load process   (default 10000)
  --stories <n>     stories the connections are spread over           (default 10)
  --rate <n>        publishes per second, round-robin over the stories (default 20)
  --seconds <n>     length of the measured publish phase              (default 20)
  --warmup <n>      publish seconds before measuring                   (default 3)
  --only <list>     comma-separated subset of: ${TARGET_NAMES.join(',')} (default all)
  --rounds <n>      floor/Stoppress pairs, alternating which goes first   (default 3);
                    Socket.IO, a reference only, runs once
  --redis <url>     Redis for Socket.IO and Stoppress                  (default redis://127.0.0.1:6379)
  -h, --help        show this help
`;

function positiveInt(name, raw) {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got "${raw}"`);
  return n;
}

/** Parses argv into a validated options object; prints help and exits on --help. */
export function readOptions(argv = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: {
      subs: { type: 'string', default: '10000' },
      stories: { type: 'string', default: '10' },
      rate: { type: 'string', default: '20' },
      seconds: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '3' },
      only: { type: 'string', default: TARGET_NAMES.join(',') },
      rounds: { type: 'string', default: '3' },
      redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const only = values.only.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of only) {
    if (!TARGET_NAMES.includes(name)) throw new Error(`--only: unknown target "${name}" (known: ${TARGET_NAMES.join(', ')})`);
  }
  const opts = {
    subs: positiveInt('subs', values.subs),
    stories: positiveInt('stories', values.stories),
    rate: positiveInt('rate', values.rate),
    seconds: positiveInt('seconds', values.seconds),
    warmup: positiveInt('warmup', values.warmup),
    only: TARGET_NAMES.filter((n) => only.includes(n)), // keep the canonical order
    rounds: positiveInt('rounds', values.rounds),
    redisUrl: values.redis,
  };
  // One process holds every client socket: stay under the open-file limit with room to spare.
  if (opts.subs > 19_000) throw new Error('--subs above 19000 would exceed the open-file limit of one process');
  return opts;
}
