// The floor: what Redis must do at least for one publish that reaches `subscribers` nodes. `XADD` plus `SPUBLISH`
// of the same payload, pipelined from Node, straight to the master that serves the story's slot; the
// subscribers are plain ioredis connections SSUBSCRIBEd to the channel, each in a process of its own like the
// node it stands for (floor-subscriber.mjs). The publishes come from this process, or from publisher processes
// taking turns (floor-publisher.mjs), as they come through several nodes behind a load balancer.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { atRate } from './phase.mjs';

const DRAIN_TIMEOUT_MS = 10_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const SUBSCRIBER = fileURLToPath(new URL('./floor-subscriber.mjs', import.meta.url));
const PUBLISHER = fileURLToPath(new URL('./floor-publisher.mjs', import.meta.url));

/** A helper process (a floor subscriber or publisher): ready once it says so, then one answer per message sent. */
async function startHelper(script, args, name) {
  const child = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = [];
  await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
    child.on('message', (message) => (message.ready ? resolve() : waiting.shift()?.(message)));
  });
  return { ask: (message) => new Promise((resolve) => (waiting.push(resolve), child.send(message))), close: () => child.kill() };
}

/** A subscriber process SSUBSCRIBEd to `channel`: resolves once subscribed; `count()` asks how many messages it got. */
async function startSubscriber(port, channel) {
  const helper = await startHelper(SUBSCRIBER, [String(port), channel], 'floor subscriber');
  return { count: async () => (await helper.ask('count')).delivered, close: helper.close };
}

/** A publisher process connected to `port`: `publish(job)` resolves once it sent its share of the job's schedule. */
async function startPublisher(port) {
  const helper = await startHelper(PUBLISHER, [String(port)], 'floor publisher');
  return { publish: (job) => helper.ask(job), close: helper.close };
}

async function connect(port) {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  return redis;
}

/**
 * A floor rig on `topology` (see redis-procs.mjs) with `subscribers` subscriber processes: `json` is the update
 * JSON Stoppress stored (same payload size), the stream is trimmed `MAXLEN ~ maxLen` like Stoppress's. It
 * publishes from this process, or with `publisherProcesses` > 0 from that many processes taking turns. Its
 * `window(publishes, rate)` publishes and resolves once every subscriber has every message (or after 10 s);
 * `delivered` / `expected` count over all windows; `close()` ends its connections.
 */
export async function createFloor({ topology, keyPrefix, story, json, maxLen, subscribers, publisherProcesses = 0 }) {
  // Each rig has its own stream and channel (same hash tag, so the same master): rigs alive at once must not
  // hear each other.
  const rig = `floor${subscribers}${publisherProcesses ? `p${publisherProcesses}` : ''}`;
  const stream = `${keyPrefix}${rig}:{${story}}:updates`;
  const channel = `${keyPrefix}${rig}:{${story}}:live`;
  const port = topology.masterFor(stream);
  const publisher = await connect(port);
  const publishers = await Promise.all(Array.from({ length: publisherProcesses }, () => startPublisher(port)));
  const subs = await Promise.all(Array.from({ length: subscribers }, () => startSubscriber(port, channel)));
  const floor = { subscribers, delivered: 0, expected: 0 };
  let warmUp = 0; // messages the subscribers got during the warm-up: not counted
  const count = async () => (floor.delivered = (await Promise.all(subs.map((s) => s.count()))).reduce((a, b) => a + b, 0) - warmUp);
  let previousId = '0-0';
  const publishOne = async () => {
    const id = `${Date.now()}-0`;
    await publisher.pipeline().xadd(stream, 'MAXLEN', '~', maxLen, '*', 'k', 'statement', 'd', json).spublish(channel, `${previousId} ${id} ${json}`).exec();
    previousId = id;
  };
  const publishAtRate = (count, rate) => {
    if (publishers.length === 0) return atRate(count, rate, publishOne);
    const job = { t0: Date.now() + 20, of: publishers.length, count, rate, stream, channel, json, maxLen };
    return Promise.all(publishers.map((p, me) => p.publish({ ...job, me })));
  };
  await publishAtRate(20, 200); // warm-up
  await sleep(100);
  warmUp = await count();
  floor.delivered = 0;
  floor.window = async (publishes, rate) => {
    floor.expected += publishes * subscribers;
    await publishAtRate(publishes, rate);
    const deadline = performance.now() + DRAIN_TIMEOUT_MS;
    while ((await count()) < floor.expected && performance.now() < deadline) await sleep(2);
  };
  floor.close = () => {
    publisher.disconnect();
    publishers.forEach((p) => p.close());
    subs.forEach((s) => s.close());
  };
  return floor;
}
