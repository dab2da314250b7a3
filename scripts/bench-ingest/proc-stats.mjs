// Reads a process's resident memory and CPU time from Linux /proc, for the orchestrator to sample
// the server it started before and after the measured load.
//
// - /proc/<pid>/status: VmRSS (current resident set) and VmHWM (peak resident set), in kB.
// - /proc/<pid>/stat: utime + stime (fields 14 and 15), in clock ticks; one tick is
//   1 / `getconf CLK_TCK` seconds (usually 100 ticks/s, i.e. a 10 ms resolution).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second, asked once from `getconf CLK_TCK` (falls back to the usual 100). */
export const CLK_TCK = (() => {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
})();

/** Parses one `Name:   1234 kB` line of /proc/<pid>/status into bytes (undefined if absent). */
function statusKb(status, name) {
  const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/**
 * One sample of a process: `{ at, rssBytes, peakRssBytes, cpuSeconds }`, where `at` is
 * performance.now() in ms and cpuSeconds is user + system CPU time since the process started.
 */
export function sampleProcess(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may itself contain spaces or ")", so split
  // after the last ")": the remaining fields start at field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  return {
    at: performance.now(),
    rssBytes: statusKb(status, 'VmRSS'),
    peakRssBytes: statusKb(status, 'VmHWM'),
    cpuSeconds: (utime + stime) / CLK_TCK,
  };
}

/**
 * Whole-machine CPU time from the first line of /proc/stat, in seconds summed over all cores:
 * `busySeconds` (user + nice + system + irq + softirq) and `stealSeconds` (time the hypervisor
 * gave to someone else). Comparing it with the server's, the load process's and Redis's CPU time
 * shows whether something else was competing for the machine during the run.
 */
export function sampleMachine() {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return { busySeconds: (user + nice + system + irq + softirq) / CLK_TCK, stealSeconds: (steal ?? 0) / CLK_TCK };
}
