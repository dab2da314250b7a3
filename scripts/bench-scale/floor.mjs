// The floor: what Redis must do at least for one publish that reaches `subscribers` nodes. `XADD` plus `SPUBLISH`
// of the same payload, pipelined from Node, straight to the master that serves the story's slot; the
// subscribers are plain ioredis connections SSUBSCRIBEd to the channel (one per node it stands for).
import { Redis } from 'ioredis';
import { atRate, measurePhase, perPublish } from './phase.mjs';

const DRAIN_TIMEOUT_MS = 10_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function connect(port) {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  return redis;
}

/**
 * Runs the floor with `subscribers` subscribed connections on `topology` (see redis-procs.mjs): `publishes` at
 * `rate`/s of `json` (the update JSON Stoppress stored, so the payload is the same size), stream `MAXLEN ~ maxLen`.
 * Answers perPublish() figures plus { delivered, expected }.
 */
export async function runFloor({ topology, meter, keyPrefix, story, json, maxLen, subscribers, publishes, rate, idleMs }) {
  const stream = `${keyPrefix}floor:{${story}}:updates`;
  const channel = `${keyPrefix}floor:{${story}}:live`;
  const port = topology.masterFor(stream);
  const publisher = await connect(port);
  const subs = await Promise.all(Array.from({ length: subscribers }, () => connect(port)));
  let received = 0;
  for (const sub of subs) {
    sub.on('smessage', () => received++);
    await sub.ssubscribe(channel);
  }
  let previousId = '0-0';
  const publishOne = async () => {
    const id = `${Date.now()}-0`;
    await publisher.pipeline().xadd(stream, 'MAXLEN', '~', maxLen, '*', 'k', 'statement', 'd', json).spublish(channel, `${previousId} ${id} ${json}`).exec();
    previousId = id;
  };
  try {
    await atRate(20, rate, publishOne); // warm-up
    const expected = publishes * subscribers;
    let base = 0;
    const phase = await measurePhase({
      meter,
      pids: [],
      idleMs,
      publishAll: async () => {
        base = received;
        await atRate(publishes, rate, publishOne);
        const deadline = performance.now() + DRAIN_TIMEOUT_MS;
        while (received - base < expected && performance.now() < deadline) await sleep(2);
      },
    });
    return { ...perPublish(phase, publishes), delivered: received - base, expected };
  } finally {
    publisher.disconnect();
    subs.forEach((s) => s.disconnect());
  }
}
