// Turns the per-target results of run.mjs into the printed report: the markdown table, one detail
// block per target (counts, exact latencies, memory, the stream write check) and the verdicts.

/** Cores' worth of CPU outside server, load and Redis above which a run is flagged as disturbed. */
const REST_WARNING = 0.3;

export const GOALS = { ratio: 0.6, updatesPerSec: 8000, p99Ms: 20 };

const int = (x) => (x == null ? '–' : Math.round(x).toLocaleString('en-US'));
const fixed = (x, digits) => (x == null ? '–' : x.toFixed(digits));
const mib = (bytes) => (bytes == null ? null : bytes / 1024 / 1024);

/** The markdown table, one row per target (failed or skipped targets say why). */
export function table(results) {
  const lines = [
    '| target | updates/s | p50 ms | p99 ms | max ms | server RSS MiB | server CPU µs/update | load-process CPU % |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    if (r.status !== 'ok') {
      lines.push(`| ${r.target} | ${r.status}: ${r.reason.replaceAll('|', '\\|')} | | | | | | |`);
      continue;
    }
    const { load, server } = r;
    lines.push(
      `| ${r.target} | ${int(load.updatesPerSec)} | ${load.latencyMs.p50} | ${load.latencyMs.p99} | ${load.latencyMs.max} | ` +
        `${fixed(mib(server.after.rssBytes), 1)} | ${fixed(server.cpuMicrosPerUpdate, 1)} | ${fixed(load.loadCpu.percent, 1)} |`,
    );
  }
  lines.push('', 'Latencies of accepted (2xx) requests from autocannon\'s histogram, in whole ms (truncated: "19" means 19.0-19.99);');
  lines.push('server CPU and RSS from /proc over the measured run; load-process CPU % = its CPU time / run time (100 % = one core).');
  return lines.join('\n');
}

/** Whether the stream received exactly the accepted updates (warm-up included), and a sentence saying so. */
export function writeCheck(stream, load) {
  const expected = (load.warmup?.ok2xx ?? 0) + load.ok2xx;
  const counted = stream.entriesAdded ?? stream.xlen;
  const how = stream.entriesAdded == null ? 'XLEN' : 'entries-added';
  const trimmed = stream.entriesAdded != null && stream.xlen < stream.entriesAdded ? ' (stream trimmed by its MAXLEN cap)' : '';
  const summary =
    `stream ${stream.key}: XLEN ${int(stream.xlen)}${trimmed}, entries-added ${int(stream.entriesAdded)}; ` +
    `accepted ${int(expected)} (${int(load.warmup?.ok2xx ?? 0)} warm-up + ${int(load.ok2xx)} measured)`;
  if (counted === expected) return { ok: true, text: `${summary}: OK, every accepted update is in the stream` };
  if (counted < expected) {
    return { ok: false, text: `${summary}: LOST WRITES, ${int(expected - counted)} accepted updates are missing from the stream (by ${how})` };
  }
  return { ok: false, text: `${summary}: MISMATCH, ${int(counted - expected)} more entries than accepted updates (by ${how}; writes whose response failed?)` };
}

/** The detail lines of one target. */
export function details(r) {
  if (r.status !== 'ok') return [`- ${r.target}: ${r.status}: ${r.reason}`, ...(r.log ? ['  last server output:', ...r.log.split('\n').map((l) => `    ${l}`)] : [])];
  const { load, server } = r;
  const codes = Object.entries(load.statusCodes).map(([code, count]) => `${code}: ${int(count)}`).join(', ') || 'none';
  const lines = [
    `- ${r.target} (${r.entry}, port ${r.port}): ${int(load.sent)} sent, ${int(load.ok2xx)} 2xx, ${int(load.non2xx)} non-2xx, ` +
      `${int(load.errors)} errors (${int(load.timeouts)} timeouts) in ${fixed(load.durationSec, 2)} s; status codes ${codes}`,
    `  exact latency of 2xx: p50 ${fixed(load.latencyExactMs.p50, 2)} ms, p99 ${fixed(load.latencyExactMs.p99, 2)} ms, max ${fixed(load.latencyExactMs.max, 2)} ms`,
    `  server RSS ${fixed(mib(server.before.rssBytes), 1)} MiB before -> ${fixed(mib(server.after.rssBytes), 1)} MiB after (peak ${fixed(mib(server.after.peakRssBytes), 1)} MiB); ` +
      `server CPU ${fixed(server.cpuSeconds, 2)} s; Redis CPU ${fixed(r.redisCpuMicrosPerUpdate, 1)} µs/update`,
    `  machine CPU during the run, in cores of ${r.cores.total}: ${fixed(r.cores.busy, 2)} busy = server ${fixed(r.cores.server, 2)} + ` +
      `load ${fixed(r.cores.load, 2)} + Redis ${fixed(r.cores.redis, 2)} + rest ${fixed(r.cores.rest, 2)} (other processes, kernel); steal ${fixed(r.cores.steal, 2)}`,
    `  ${r.writes.text}`,
  ];
  if (r.cores.rest > REST_WARNING) lines.push(`  WARNING: ${fixed(r.cores.rest, 2)} cores went to something else during the run: the figures are likely disturbed; run again on a quiet machine`);
  for (const [phase, sample] of [['warm-up', load.warmup?.sampleNon2xx], ['measured', load.sampleNon2xx]]) {
    if (sample?.length) lines.push(`  first non-2xx answers (${phase}): ${sample.join(' | ')}`);
  }
  return lines;
}

/** The verdict lines: throughput ratio and Stoppress's absolute goal. */
export function verdicts(results) {
  const floor = results.find((r) => r.target === 'floor' && r.status === 'ok');
  const stoppress = results.find((r) => r.target === 'stoppress' && r.status === 'ok');
  const lines = [];
  const disturbed = results.filter((r) => r.status === 'ok' && r.cores.rest > REST_WARNING).map((r) => r.target);
  if (disturbed.length > 0) {
    lines.push(`WARNING: other activity on the machine during the ${disturbed.join(' and ')} run(s): treat these figures as unreliable and run again`);
  }
  if (floor && stoppress) {
    const ratio = stoppress.load.updatesPerSec / floor.load.updatesPerSec;
    lines.push(`Stoppress/floor throughput ratio: ${ratio.toFixed(2)} (target ≥ ${GOALS.ratio}): ${ratio >= GOALS.ratio ? 'met' : 'NOT met'}`);
  } else {
    lines.push(`Stoppress/floor throughput ratio: n/a (${!floor ? 'floor' : 'Stoppress'} not measured) (target ≥ ${GOALS.ratio})`);
  }
  if (!stoppress) {
    lines.push(`Stoppress ≥ ${int(GOALS.updatesPerSec)} updates/s with p99 < ${GOALS.p99Ms} ms: n/a (Stoppress not measured)`);
    return lines;
  }
  const { load } = stoppress;
  const misses = [];
  if (load.updatesPerSec < GOALS.updatesPerSec) misses.push(`${int(load.updatesPerSec)} updates/s`);
  // autocannon's histogram truncates to whole ms, so "p99 < 20" holds exactly when it reports <= 19.
  if (load.latencyMs.p99 >= GOALS.p99Ms) misses.push(`p99 ${load.latencyMs.p99} ms`);
  if (load.non2xx > 0 || load.errors > 0) misses.push(`${int(load.non2xx)} refused and ${int(load.errors)} failed requests`);
  if (!stoppress.writes.ok) misses.push('stream write count mismatch');
  lines.push(
    `Stoppress ≥ ${int(GOALS.updatesPerSec)} updates/s with p99 < ${GOALS.p99Ms} ms: ` +
      (misses.length === 0 ? `met (${int(load.updatesPerSec)} updates/s, p99 ${load.latencyMs.p99} ms)` : `NOT met (${misses.join('; ')})`),
  );
  return lines;
}
