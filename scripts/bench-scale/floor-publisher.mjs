// One publisher of the floor, in a process of its own: for the floor whose publishes arrive through several
// client processes in turn, as a multi-node system's do when a load balancer spreads the ingest over its nodes.
//   fork('floor-publisher.mjs', [port]); IPC: it sends { ready: true } once connected; then, for each
//   { t0, me, of, count, rate, stream, channel, json, maxLen }, it sends publishes me, me + of, … of the shared
//   schedule (publish j at t0 + j / rate seconds), each XADD + SPUBLISH pipelined, and answers { done: true }.
import { Redis } from 'ioredis';

const redis = new Redis({ host: '127.0.0.1', port: Number(process.argv[2]), maxRetriesPerRequest: 1 });
await redis.ping();
process.send({ ready: true });
process.on('message', async ({ t0, me, of, count, rate, stream, channel, json, maxLen }) => {
  const sent = [];
  for (let j = me; j < count; j += of) {
    const wait = t0 + (j * 1000) / rate - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    // The same payload size as the in-process floor's "<previous id> <id> <json>".
    const id = `${Date.now()}-0`;
    sent.push(redis.pipeline().xadd(stream, 'MAXLEN', '~', maxLen, '*', 'k', 'statement', 'd', json).spublish(channel, `${id} ${id} ${json}`).exec());
  }
  await Promise.all(sent);
  process.send({ done: true });
});
process.on('disconnect', () => process.exit(0));
