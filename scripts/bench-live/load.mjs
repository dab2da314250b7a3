// The load process: one per target run, forked by run.mjs with an IPC channel and its config as
// argv[2] (JSON: target, host, port, subs, stories, rate, seconds, warmup).
//
// 1. Opens `subs` WebSockets (at most CONNECT_CONCURRENCY handshakes in flight), socket i following
//    story `bench-<i % stories>` and the extra story "all"; waits until every one is subscribed.
//    -> IPC {type:'subscribed'}; waits for {type:'go'} (the orchestrator samples idle server RSS).
// 2. Warm-up: publishes at `rate`/s for `warmup` s, round-robin over the stories, then drains.
// 3. -> {type:'window-start'}, waits for 'ok' (server CPU sampled); publishes at `rate`/s for
//    `seconds` s, recording the latency of every delivery; waits until all are delivered;
//    -> {type:'window-end'}, waits for 'ok' (server CPU sampled again).
// 4. "One publish to all": ALL_PUBLISHES publishes to "all", one at a time; for each, the time from
//    just before the POST until the last of the `subs` sockets has it.
// 5. Checks every socket got every publish of its stories exactly once, prints its own CPU use,
//    -> {type:'result', ...} and exits (the kernel closes the sockets).
import { createPublisher } from './publisher.mjs';
import { ALL_STORY, Tracker, nowMs } from './tracker.mjs';
import { percentile, median, sortNumbers } from './stats.mjs';

const CONNECT_CONCURRENCY = 200; // handshakes in flight: quick, without flooding the accept queue
const ALL_PUBLISHES = 5;
const DRAIN_TIMEOUT_MS = 10_000; // give up waiting for deliveries after this
const ALL_TIMEOUT_MS = 15_000;
const SUBSCRIBE_TIMEOUT_MS = 30_000; // a socket not subscribed by then fails the run (e.g. no /v1/live yet)

const cfg = JSON.parse(process.argv[2]);
const client = await import(`./clients/${cfg.target}.mjs`);
const base = `${cfg.host}:${cfg.port}`;
const log = (msg) => console.log(`  [load ${cfg.target}] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** `promise`, or a rejection after `ms`. */
function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} after ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// --- IPC with the orchestrator ---------------------------------------------------------------
const inbox = [];
let waiter = null;
process.on('message', (m) => (waiter ? (waiter(m), (waiter = null)) : inbox.push(m)));
/** Sends `msg`, then waits for the orchestrator's answer of type `expect`. */
async function ask(msg, expect) {
  process.send(msg);
  const m = inbox.length ? inbox.shift() : await new Promise((r) => (waiter = r));
  if (m.type !== expect) throw new Error(`expected ${expect} from orchestrator, got ${m.type}`);
}

// --- Setup ---------------------------------------------------------------------------------------
const stories = Array.from({ length: cfg.stories }, (_, s) => `bench-${s}`);
const warmupCount = cfg.warmup * cfg.rate;
const measuredCount = cfg.seconds * cfg.rate;
const maxPerStory = Math.ceil((warmupCount + measuredCount) / cfg.stories) + 1;
const tracker = new Tracker({
  subs: cfg.subs,
  stories,
  maxPerStory,
  allCount: ALL_PUBLISHES,
  measuredMax: (Math.ceil(measuredCount / cfg.stories) + 1) * Math.ceil(cfg.subs / cfg.stories) * cfg.stories,
});
const publish = createPublisher(cfg.host, cfg.port);
let publishFailures = 0;
/** Counts a failed publish; logs only the first few. */
function publishFailed(why) {
  if (++publishFailures <= 3) log(`publish failed: ${why}${publishFailures === 3 ? ' (further failures only counted)' : ''}`);
}
let closedEarly = 0;
let phase = 'connect';
const cpuAtStart = process.cpuUsage();
const startedAt = performance.now();

// --- 1. Connect --------------------------------------------------------------------------------
async function connectAll() {
  const t0 = performance.now();
  let next = 0;
  async function worker() {
    while (next < cfg.subs) {
      const i = next++;
      const opening = client.open(base, [stories[tracker.storyOf[i]], ALL_STORY], (story, text) => tracker.deliver(i, story, text));
      const ws = await withTimeout(opening, SUBSCRIBE_TIMEOUT_MS, `socket ${i} not subscribed`);
      ws.on('close', () => phase !== 'done' && closedEarly++);
      ws.on('error', () => {});
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, cfg.subs) }, worker));
  return performance.now() - t0;
}

// --- 2./3. Publishing at a fixed rate --------------------------------------------------------------
let roundRobin = 0;
/** Publishes `count` updates at `cfg.rate`/s (drift-free schedule); resolves when all were answered. */
async function publishAtRate(count, measured) {
  const interval = 1000 / cfg.rate;
  const t0 = performance.now();
  const inFlight = [];
  for (let j = 0; j < count; j++) {
    const wait = t0 + j * interval - performance.now();
    if (wait > 1) await sleep(wait);
    const s = roundRobin++ % cfg.stories;
    const k = tracker.nextPublish(s, measured);
    const text = `t=${nowMs().toFixed(3)} n=${k}`;
    inFlight.push(
      publish(client.publishRequest(stories[s], text)).then(
        (status) => status === 201 || publishFailed(`answered ${status}`),
        (err) => publishFailed(err.message),
      ),
    );
  }
  await Promise.all(inFlight);
}

/** Waits until every update published so far reached every follower (or the timeout). */
async function drain() {
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  while (tracker.outstanding() > 0 && performance.now() < deadline) await sleep(2);
  if (tracker.outstanding() > 0) log(`${tracker.outstanding()} deliveries still missing after ${DRAIN_TIMEOUT_MS} ms`);
}

// --- 4. One publish to all -------------------------------------------------------------------------
async function publishToAll() {
  const times = [];
  for (let n = 0; n < ALL_PUBLISHES; n++) {
    const k = tracker.nextAllPublish();
    const sentAt = nowMs();
    const answered = publish(client.publishRequest(ALL_STORY, `t=${sentAt.toFixed(3)} n=${k}`)).then(
      (status) => status === 201 || publishFailed(`to all: answered ${status}`),
      (err) => publishFailed(`to all: ${err.message}`),
    );
    const deadline = performance.now() + ALL_TIMEOUT_MS;
    while (tracker.allReceived[k] < cfg.subs && performance.now() < deadline) await sleep(1);
    await answered;
    if (tracker.allReceived[k] < cfg.subs) {
      log(`publish ${k} to all reached only ${tracker.allReceived[k]} sockets in ${ALL_TIMEOUT_MS} ms; skipping the rest`);
      break;
    }
    times.push(tracker.allLastAt[k] - sentAt);
    await sleep(200); // let the server settle between the bursts
  }
  return times;
}

// --- Run -----------------------------------------------------------------------------------------
const cpuPercent = (cpu, ms) => ((cpu.user + cpu.system) / 1000 / ms) * 100;

const connectMs = await connectAll();
log(`${cfg.subs} sockets subscribed in ${(connectMs / 1000).toFixed(1)} s`);
await ask({ type: 'subscribed', connectMs }, 'go');

phase = 'warmup';
await publishAtRate(warmupCount, false);
await drain();

await ask({ type: 'window-start' }, 'ok');
phase = 'measure';
const windowCpu0 = process.cpuUsage();
const windowT0 = performance.now();
const deliveriesBefore = tracker.deliveries;
await publishAtRate(measuredCount, true);
await drain();
const windowMs = performance.now() - windowT0;
const windowCpu = process.cpuUsage(windowCpu0);
const delivered = tracker.deliveries - deliveriesBefore;
await ask({ type: 'window-end' }, 'ok');

phase = 'all';
const allTimes = await publishToAll();
phase = 'done';

const audit = tracker.audit();
const lat = sortNumbers(tracker.latencies.subarray(0, tracker.latencyCount));
const result = {
  type: 'result',
  connectMs,
  windowMs,
  published: measuredCount,
  delivered,
  msgsPerSec: delivered / (windowMs / 1000),
  p50: percentile(lat, 50),
  p99: percentile(lat, 99),
  max: lat.length ? lat[lat.length - 1] : NaN,
  allMs: median(allTimes),
  allTimes,
  loadCpuPercent: cpuPercent(windowCpu, windowMs),
  loadCpuPercentRun: cpuPercent(process.cpuUsage(cpuAtStart), performance.now() - startedAt),
  ...audit,
  publishFailures,
  closedEarly,
};
result.exactlyOnce = audit.missing === 0 && audit.duplicates === 0 && audit.strays === 0 && publishFailures === 0 && closedEarly === 0;
log(
  `load CPU ${result.loadCpuPercent.toFixed(0)}% of one core during the publish phase ` +
    `(${result.loadCpuPercentRun.toFixed(0)}% over the whole run); ` +
    `missing ${audit.missing}, duplicates ${audit.duplicates}, strays ${audit.strays}, ` +
    `failed publishes ${publishFailures}, sockets closed early ${closedEarly}`,
);
process.send(result, () => process.exit(0));
