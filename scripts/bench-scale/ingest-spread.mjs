// Diagnostic (not part of `npm run bench:scale`): what Redis pays when the same publishes arrive through several
// client processes in turn rather than through one, as they do when a load balancer spreads the ingest over
// several nodes. The floor's publish (XADD + SPUBLISH pipelined, no subscriber) at 200/s, sent by 1 process, then
// by 4 processes taking turns, in alternating rounds on one private redis-server; prints Redis CPU µs per publish
// (net of idle) for each and the median per-round difference.
//   npm run build && node scripts/bench-scale/ingest-spread.mjs [--publishers 4] [--rounds 9] [--publishes 300]
// A publisher process is this file forked with `publisher <port>`; IPC: { ready } once connected, then for each
// { t0, me, of, count, rate, stream, channel, json } it sends publishes me, me + of, … on the shared schedule
// and answers { done }.
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startSingleRedis } from './redis-procs.mjs';
import { createRedisMeter } from './redis-meter.mjs';
import { measureRound, perPublish, median } from './phase.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

if (process.argv[2] === 'publisher') {
  const redis = new Redis({ host: '127.0.0.1', port: Number(process.argv[3]) });
  await redis.ping();
  process.send({ ready: true });
  process.on('message', async ({ t0, me, of, count, rate, stream, channel, json }) => {
    const sent = [];
    for (let j = me; j < count; j += of) {
      const wait = t0 + (j * 1000) / rate - Date.now();
      if (wait > 0) await sleep(wait);
      sent.push(redis.pipeline().xadd(stream, 'MAXLEN', '~', 10_000, '*', 'k', 'statement', 'd', json).spublish(channel, `0-0 ${j}-0 ${json}`).exec());
    }
    await Promise.all(sent);
    process.send({ done: true });
  });
  process.on('disconnect', () => process.exit(0));
} else {
  const { values: args } = parseArgs({
    options: { publishers: { type: 'string', default: '4' }, rounds: { type: 'string', default: '9' }, publishes: { type: 'string', default: '300' } },
  });
  const spread = Number(args.publishers);
  const rounds = Number(args.rounds);
  const publishes = Number(args.publishes);
  const rate = 200;
  const json = JSON.stringify({ kind: 'statement', text: 'x'.repeat(300), source: { name: 'Bench' } });
  const redis = await startSingleRedis();
  const port = redis.ports[0];
  const meter = await createRedisMeter(redis.ports);
  const self = fileURLToPath(import.meta.url);
  const start = async (n) =>
    Promise.all(
      Array.from({ length: n }, async () => {
        const child = fork(self, ['publisher', String(port)]);
        await new Promise((resolve) => child.once('message', resolve));
        return child;
      }),
    );
  const windowOf = (group) => async () => {
    const t0 = Date.now() + 20;
    const job = { t0, of: group.length, count: publishes, rate, stream: 'spread:{s}:updates', channel: 'spread:{s}:live', json };
    await Promise.all(group.map((child, me) => new Promise((resolve) => (child.once('message', resolve), child.send({ ...job, me })))));
  };
  try {
    const one = await start(1);
    const many = await start(spread);
    await windowOf(one)();
    await windowOf(many)(); // warm-up
    const perOne = [];
    const perMany = [];
    for (let round = 0; round < rounds; round++) {
      const oneFirst = round % 2 === 0;
      const { idle, windows } = await measureRound({ meter, pids: [], idleMs: 1_000, windows: oneFirst ? [windowOf(one), windowOf(many)] : [windowOf(many), windowOf(one)] });
      const [w1, wn] = oneFirst ? windows : [windows[1], windows[0]];
      perOne.push(perPublish(idle, w1, publishes).redisNetUs);
      perMany.push(perPublish(idle, wn, publishes).redisNetUs);
    }
    const fmt = (values) => values.map((v) => v.toFixed(1)).join(', ');
    console.log(`Redis CPU µs per publish (XADD + SPUBLISH, no subscriber, ${rate}/s, net of idle), ${rounds} rounds:`);
    console.log(`- 1 publisher process: median ${median(perOne).toFixed(1)} [${fmt(perOne)}]`);
    console.log(`- ${spread} publisher processes in turn: median ${median(perMany).toFixed(1)} [${fmt(perMany)}]`);
    console.log(`- difference (median of per-round differences): ${median(perMany.map((v, i) => v - perOne[i])).toFixed(1)} µs per publish`);
    [...one, ...many].forEach((child) => child.disconnect());
  } finally {
    meter.close?.();
    await redis.stop();
  }
}
