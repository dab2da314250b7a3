// The floor: what Redis must do at least for one publish that reaches `subscribers` nodes. `XADD` plus `SPUBLISH`
// of the same payload, pipelined from Node, straight to the master that serves the story's slot; the
// subscribers are plain ioredis connections SSUBSCRIBEd to the channel (one per node it stands for).
import { Redis } from 'ioredis';
import { atRate } from './phase.mjs';

const DRAIN_TIMEOUT_MS = 10_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function connect(port) {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  return redis;
}

/**
 * A floor rig on `topology` (see redis-procs.mjs) with `subscribers` subscribed connections: `json` is the update
 * JSON Stoppress stored (same payload size), the stream is trimmed `MAXLEN ~ maxLen` like Stoppress's. Its
 * `window(publishes, rate)` publishes and resolves once every subscriber has every message (or after 10 s);
 * `delivered` / `expected` count over all windows; `close()` ends its connections.
 */
export async function createFloor({ topology, keyPrefix, story, json, maxLen, subscribers }) {
  // Each rig has its own stream and channel (same hash tag, so the same master): rigs alive at once must not
  // hear each other.
  const stream = `${keyPrefix}floor${subscribers}:{${story}}:updates`;
  const channel = `${keyPrefix}floor${subscribers}:{${story}}:live`;
  const port = topology.masterFor(stream);
  const publisher = await connect(port);
  const subs = await Promise.all(Array.from({ length: subscribers }, () => connect(port)));
  const floor = { subscribers, delivered: 0, expected: 0 };
  for (const sub of subs) {
    sub.on('smessage', () => floor.delivered++);
    await sub.ssubscribe(channel);
  }
  let previousId = '0-0';
  const publishOne = async () => {
    const id = `${Date.now()}-0`;
    await publisher.pipeline().xadd(stream, 'MAXLEN', '~', maxLen, '*', 'k', 'statement', 'd', json).spublish(channel, `${previousId} ${id} ${json}`).exec();
    previousId = id;
  };
  await atRate(20, 200, publishOne); // warm-up
  await sleep(100);
  floor.delivered = 0;
  floor.window = async (publishes, rate) => {
    floor.expected += publishes * subscribers;
    await atRate(publishes, rate, publishOne);
    const deadline = performance.now() + DRAIN_TIMEOUT_MS;
    while (floor.delivered < floor.expected && performance.now() < deadline) await sleep(2);
  };
  floor.close = () => {
    publisher.disconnect();
    subs.forEach((s) => s.disconnect());
  };
  return floor;
}
