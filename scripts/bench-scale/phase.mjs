// One measured round: an idle window (nothing published: the background cost of Redis and the nodes, i.e.
// serverCron, the cluster bus, the nodes' periodic subscription checks and slot-map refreshes), then one or more
// publish windows back to back (Stoppress, then the floor), so that what they are compared with ran under the
// same load of this shared machine.
import { cpuMicros } from '../bench-live/proc-stats.mjs';
import { redisDelta } from './redis-meter.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nodeCpu = (pids) => pids.reduce((sum, pid) => sum + cpuMicros(pid), 0);

/** Calls `fn(j)` for j = 0..count−1 at `rate` per second (drift-free schedule); resolves when every call has. */
export async function atRate(count, rate, fn) {
  const t0 = performance.now();
  const calls = [];
  for (let j = 0; j < count; j++) {
    const wait = t0 + (j * 1000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    calls.push(fn(j));
  }
  await Promise.all(calls);
}

/**
 * Samples Redis (`meter`) and the CPU of `pids`, waits `idleMs`, then runs each of `windows` (functions that
 * publish and resolve once everything published was delivered), sampling after each. Answers
 * { idle, windows: [...] }, each { ms, redis (redisDelta), nodeUs }.
 */
export async function measureRound({ meter, pids, idleMs, windows }) {
  const snap = async () => ({ at: performance.now(), redis: await meter.sample(), nodeUs: nodeCpu(pids) });
  const delta = (a, b) => ({ ms: b.at - a.at, redis: redisDelta(a.redis, b.redis), nodeUs: b.nodeUs - a.nodeUs });
  const s0 = await snap();
  await sleep(idleMs);
  let last = await snap();
  const idle = delta(s0, last);
  const results = [];
  for (const window of windows) {
    await window();
    const next = await snap();
    results.push(delta(last, next));
    last = next;
  }
  return { idle, windows: results };
}

/**
 * Per-publish figures of one publish window: Redis CPU µs (gross, and net of the idle window's rate over the
 * window's duration), Redis commands (gross and net), node CPU µs, and the commands that ran, per publish.
 */
export function perPublish(idle, pub, publishes) {
  const idleShare = pub.ms / idle.ms;
  return {
    redisUs: pub.redis.cpuUs / publishes,
    redisNetUs: (pub.redis.cpuUs - idle.redis.cpuUs * idleShare) / publishes,
    idleRedisUsPerSec: idle.redis.cpuUs / (idle.ms / 1000),
    commands: pub.redis.calls / publishes,
    commandsNet: (pub.redis.calls - idle.redis.calls * idleShare) / publishes,
    nodeUs: pub.nodeUs / publishes,
    breakdown: pub.redis.commands.map(([name, c]) => [name, c.calls / publishes, c.usec / publishes]),
    idleBreakdown: idle.redis.commands.map(([name, c]) => [name, c.calls / (idle.ms / 1000)]),
  };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Combines the perPublish() figures of several rounds of one configuration: each figure is the median over the
 * rounds (the machine is shared, so one round may be disturbed); the command breakdown is the median-Redis round's.
 */
export function medianOfRounds(rounds) {
  const byRedis = [...rounds].sort((a, b) => a.redisNetUs - b.redisNetUs);
  const out = { ...byRedis[(byRedis.length - 1) >> 1], rounds: rounds.length };
  for (const key of ['redisUs', 'redisNetUs', 'idleRedisUsPerSec', 'commands', 'commandsNet', 'nodeUs']) out[key] = median(rounds.map((r) => r[key]));
  out.redisNetUsPerRound = rounds.map((r) => r.redisNetUs);
  out.redisUsPerRound = rounds.map((r) => r.redisUs);
  return out;
}
