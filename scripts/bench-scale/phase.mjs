// One measured phase: an idle window (nothing published; the background cost of Redis and the nodes: serverCron,
// cluster bus, the nodes' periodic subscription checks and slot-map refreshes), then the publish window.
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
 * Samples Redis (`meter`) and the CPU of `pids`, waits `idleMs`, samples, runs `publishAll()` (which resolves once
 * everything published was delivered), samples. Answers the idle and publish deltas and their durations.
 */
export async function measurePhase({ meter, pids, idleMs, publishAll }) {
  const snap = async () => ({ at: performance.now(), redis: await meter.sample(), nodeUs: nodeCpu(pids) });
  const s0 = await snap();
  await sleep(idleMs);
  const s1 = await snap();
  await publishAll();
  const s2 = await snap();
  return {
    idle: { ms: s1.at - s0.at, redis: redisDelta(s0.redis, s1.redis), nodeUs: s1.nodeUs - s0.nodeUs },
    pub: { ms: s2.at - s1.at, redis: redisDelta(s1.redis, s2.redis), nodeUs: s2.nodeUs - s1.nodeUs },
  };
}

/**
 * Per-publish figures of a phase: Redis CPU µs (gross, and net of the idle rate over the publish window),
 * Redis commands (gross, and net of idle), node CPU µs, and the commands that ran, per publish.
 */
export function perPublish(phase, publishes) {
  const { idle, pub } = phase;
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
    publishMs: pub.ms,
  };
}
