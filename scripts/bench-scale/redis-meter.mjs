// Reads CPU time and command counts from every Redis process of a topology (INFO cpu commandstats), so a
// phase's Redis cost is the difference of two samples. The meter's own INFO calls are left out of the counts.
import { Redis } from 'ioredis';

/** Parses `INFO cpu commandstats`: CPU µs (used_cpu_sys + used_cpu_user) and per-command { calls, usec }. */
function parseInfo(info) {
  const sys = Number(/^used_cpu_sys:([\d.]+)/m.exec(info)[1]);
  const user = Number(/^used_cpu_user:([\d.]+)/m.exec(info)[1]);
  const commands = new Map();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) commands.set(m[1], { calls: Number(m[2]), usec: Number(m[3]) });
  return { cpuUs: (sys + user) * 1e6, commands };
}

/** Connections to `ports` for sampling. `sample()` sums over every process; `close()` ends them. */
export async function createRedisMeter(ports) {
  const conns = await Promise.all(
    ports.map(async (port) => {
      const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      return redis;
    }),
  );
  return {
    /** { cpuUs, commands: Map<name, {calls, usec}> } summed over every Redis process. */
    async sample() {
      const infos = await Promise.all(conns.map((r) => r.info('cpu', 'commandstats')));
      const total = { cpuUs: 0, commands: new Map() };
      for (const { cpuUs, commands } of infos.map(parseInfo)) {
        total.cpuUs += cpuUs;
        for (const [name, c] of commands) {
          const t = total.commands.get(name) ?? { calls: 0, usec: 0 };
          t.calls += c.calls;
          t.usec += c.usec;
          total.commands.set(name, t);
        }
      }
      return total;
    },
    close: () => conns.forEach((r) => r.disconnect()),
  };
}

/**
 * The difference `b − a` of two samples: { cpuUs, calls, commands: [[name, {calls, usec}]…] by calls, most first }.
 * INFO is the meter's own command and is left out.
 */
export function redisDelta(a, b) {
  const commands = [];
  let calls = 0;
  for (const [name, c] of b.commands) {
    if (name === 'info') continue;
    const before = a.commands.get(name) ?? { calls: 0, usec: 0 };
    const d = { calls: c.calls - before.calls, usec: c.usec - before.usec };
    if (d.calls === 0) continue;
    calls += d.calls;
    commands.push([name, d]);
  }
  commands.sort((x, y) => y[1].calls - x[1].calls);
  return { cpuUs: b.cpuUs - a.cpuUs, calls, commands };
}
