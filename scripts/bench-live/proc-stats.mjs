// Reads a process's CPU time and resident memory from /proc (Linux only).
// CPU: utime + stime (fields 14 and 15 of /proc/<pid>/stat) in clock ticks, converted with `getconf CLK_TCK`.
// Memory: VmRSS from /proc/<pid>/status.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Clock ticks per second, as the kernel reports CPU times in /proc/<pid>/stat. */
export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** Total CPU time (user + system) the process has used so far, in microseconds. */
export function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // `fields[0]` is field 3 (state), so utime (field 14) is fields[11] and stime (field 15) fields[12].
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks / CLK_TCK) * 1e6;
}

/** Resident set size of the process, in bytes. */
export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** CPU time of `pid` in microseconds, or NaN if it cannot be read (gone, or not visible to us). */
function cpuMicrosOrNaN(pid) {
  try {
    return pid ? cpuMicros(pid) : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Server CPU and RSS, Redis CPU (NaN when unknown) and machine-wide busy time, at (as nearly as
 * possible) the same instant.
 */
export function sample(pid, redisPid) {
  return { at: performance.now(), cpuUs: cpuMicros(pid), rss: rssBytes(pid), redisUs: cpuMicrosOrNaN(redisPid), machineUs: machineBusyMicros() };
}

/** CPU time the whole machine spent busy so far (all cores, everything but idle and iowait), in microseconds. */
export function machineBusyMicros() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]; // "cpu  user nice system idle iowait irq softirq steal ..."
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user + nice + system + irq + softirq + steal) / CLK_TCK) * 1e6;
}
