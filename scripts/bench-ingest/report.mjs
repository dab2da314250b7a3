// Turns the per-target results of run.mjs into the printed report: the markdown table (a row per
// round and target, then each target's medians), one detail block per run (counts, exact latencies,
// memory, the stream write check) and the verdicts, taken over the rounds.
import { median } from '../bench-scale/phase.mjs';

/** Cores' worth of CPU outside server, load and Redis above which a run is flagged as disturbed. */
const REST_WARNING = 0.3;

export const GOALS = { ratio: 0.6, updatesPerSec: 8000, p99Ms: 20 };

const int = (x) => (x == null ? '–' : Math.round(x).toLocaleString('en-US'));
const fixed = (x, digits) => (x == null ? '–' : x.toFixed(digits));
const mib = (bytes) => (bytes == null ? null : bytes / 1024 / 1024);

/** The markdown table, one row per target (failed or skipped targets say why). */
export function table(results) {
  const lines = [
    '| target | round | updates/s | p50 ms | p99 ms | max ms | server RSS MiB | server CPU µs/update | load-process CPU % |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const row = (target, round, figures) =>
    `| ${target} | ${round} | ${int(figures.updatesPerSec)} | ${figures.p50} | ${figures.p99} | ${figures.max} | ` +
    `${fixed(figures.rssMiB, 1)} | ${fixed(figures.cpuMicrosPerUpdate, 1)} | ${fixed(figures.loadPercent, 1)} |`;
  for (const r of results) {
    if (r.status !== 'ok') {
      lines.push(`| ${r.target} | ${r.round} | ${r.status}: ${r.reason.replaceAll('|', '\\|')} | | | | | | |`);
      continue;
    }
    lines.push(row(r.target, r.round, figuresOf(r)));
  }
  const targets = [...new Set(results.map((r) => r.target))];
  for (const target of targets) {
    const runs = results.filter((r) => r.target === target && r.status === 'ok');
    if (runs.length > 1) lines.push(row(`**${target}**`, `median of ${runs.length}`, medianFigures(runs)));
  }
  lines.push('', 'Latencies of accepted (2xx) requests from autocannon\'s histogram, in whole ms (truncated: "19" means 19.0-19.99);');
  lines.push('server CPU and RSS from /proc over the measured run; load-process CPU % = its CPU time / run time (100 % = one core).');
  return lines.join('\n');
}

/** One run's figures as the table shows them. */
function figuresOf(r) {
  return {
    updatesPerSec: r.load.updatesPerSec,
    p50: r.load.latencyMs.p50,
    p99: r.load.latencyMs.p99,
    max: r.load.latencyMs.max,
    rssMiB: mib(r.server.after.rssBytes),
    cpuMicrosPerUpdate: r.server.cpuMicrosPerUpdate,
    loadPercent: r.load.loadCpu.percent,
  };
}

/** Each figure's median over several runs of one target. */
function medianFigures(runs) {
  const all = runs.map(figuresOf);
  return Object.fromEntries(Object.keys(all[0]).map((key) => [key, median(all.map((f) => f[key]))]));
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
  if (r.status !== 'ok') return [`- ${r.target}, round ${r.round}: ${r.status}: ${r.reason}`, ...(r.log ? ['  last server output:', ...r.log.split('\n').map((l) => `    ${l}`)] : [])];
  const { load, server } = r;
  const codes = Object.entries(load.statusCodes).map(([code, count]) => `${code}: ${int(count)}`).join(', ') || 'none';
  const lines = [
    `- ${r.target}, round ${r.round} (${r.entry}, port ${r.port}): ${int(load.sent)} sent, ${int(load.ok2xx)} 2xx, ${int(load.non2xx)} non-2xx, ` +
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

/**
 * The verdict lines, over the rounds (each an array of that round's results): the throughput ratio is the median
 * of the rounds' ratios (a round's pair ran under the same load of this shared machine), Stoppress's absolute goal
 * is checked on its medians.
 */
export function verdicts(rounds) {
  const ok = (r) => r.status === 'ok';
  const lines = [];
  const disturbed = rounds.flat().filter((r) => ok(r) && r.cores.rest > REST_WARNING).map((r) => `${r.target} (round ${r.round})`);
  if (disturbed.length > 0) {
    lines.push(`WARNING: other activity on the machine during the ${disturbed.join(', ')} run(s): treat these figures as unreliable and run again`);
  }
  const ratios = [];
  for (const round of rounds) {
    const floor = round.find((r) => r.target === 'floor' && ok(r));
    const stoppress = round.find((r) => r.target === 'stoppress' && ok(r));
    if (floor && stoppress) ratios.push(stoppress.load.updatesPerSec / floor.load.updatesPerSec);
  }
  if (ratios.length > 0) {
    const ratio = median(ratios);
    const each = ratios.length > 1 ? ` (median of the rounds' ${ratios.map((x) => x.toFixed(2)).join(', ')})` : '';
    lines.push(`Stoppress/floor throughput ratio: ${ratio.toFixed(2)}${each} (target ≥ ${GOALS.ratio}): ${ratio >= GOALS.ratio ? 'met' : 'NOT met'}`);
  } else {
    lines.push(`Stoppress/floor throughput ratio: n/a (no round measured both) (target ≥ ${GOALS.ratio})`);
  }
  const stoppressRuns = rounds.flat().filter((r) => r.target === 'stoppress' && ok(r));
  if (stoppressRuns.length === 0) {
    lines.push(`Stoppress ≥ ${int(GOALS.updatesPerSec)} updates/s with p99 < ${GOALS.p99Ms} ms: n/a (Stoppress not measured)`);
    return lines;
  }
  const { updatesPerSec, p99 } = medianFigures(stoppressRuns);
  const misses = [];
  if (updatesPerSec < GOALS.updatesPerSec) misses.push(`${int(updatesPerSec)} updates/s`);
  // autocannon's histogram truncates to whole ms, so "p99 < 20" holds exactly when it reports <= 19.
  if (p99 >= GOALS.p99Ms) misses.push(`p99 ${p99} ms`);
  const refused = stoppressRuns.reduce((n, r) => n + r.load.non2xx, 0);
  const failed = stoppressRuns.reduce((n, r) => n + r.load.errors, 0);
  if (refused > 0 || failed > 0) misses.push(`${int(refused)} refused and ${int(failed)} failed requests`);
  if (!stoppressRuns.every((r) => r.writes.ok)) misses.push('stream write count mismatch');
  const which = stoppressRuns.length > 1 ? ` (medians of ${stoppressRuns.length} rounds)` : '';
  lines.push(
    `Stoppress ≥ ${int(GOALS.updatesPerSec)} updates/s with p99 < ${GOALS.p99Ms} ms${which}: ` +
      (misses.length === 0 ? `met (${int(updatesPerSec)} updates/s, p99 ${p99} ms)` : `NOT met (${misses.join('; ')})`),
  );
  return lines;
}
