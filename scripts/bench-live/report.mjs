// Turns the per-target measurements into the markdown table and the ratio lines.
import { LABELS } from './targets.mjs';
import { median } from './stats.mjs';

// Figures cross the IPC channel as JSON, which turns NaN into null: treat null as "not measured".
const num = (v) => (typeof v === 'number' ? v : NaN);
const fmt = (v, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
const fmtInt = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a');

const COLUMNS = [
  ['target', (r) => LABELS[r.name]],
  ['delivered msgs/s', (r) => fmtInt(r.msgsPerSec)],
  ['p50 ms', (r) => fmt(r.p50)],
  ['p99 ms', (r) => fmt(r.p99)],
  ['max ms', (r) => fmt(r.max)],
  ['one publish to all ms (median)', (r) => fmt(r.allMs)],
  ['server RSS MiB', (r) => fmt(r.rssMiB)],
  ['KiB per idle conn', (r) => fmt(r.kibPerConn)],
  ['server CPU µs/msg', (r) => fmt(r.cpuUsPerMsg)],
  ['load CPU %', (r) => fmt(r.loadCpuPercent, 0)],
  ['all delivered exactly once', (r) => (r.exactlyOnce ? 'yes' : 'no')],
];

/** The markdown table, one row per target (a failed target gets its error instead of figures). */
export function table(rows) {
  const lines = [`| ${COLUMNS.map(([h]) => h).join(' | ')} |`, `|${COLUMNS.map(() => '---').join('|')}|`];
  for (const r of rows) {
    if (r.error) lines.push(`| ${LABELS[r.name]} | failed: ${r.error.replaceAll('|', '/')} |${' |'.repeat(COLUMNS.length - 2)}`);
    else lines.push(`| ${COLUMNS.map(([, f]) => f(r)).join(' | ')} |`);
  }
  return lines.join('\n');
}

// Metric, its key, and the ceiling for Stoppress ÷ floor.
const RATIOS = [
  ['server CPU µs/msg', 'cpuUsPerMsg', 1.1],
  ['KiB per idle conn', 'kibPerConn', 1.2],
  ['p99 latency', 'p99', 1.5],
  ['one publish to all', 'allMs', 1.2],
];

/**
 * One row standing for several runs of a target: each figure is the median over the runs, delivery is exactly
 * once only if every run was; a failed run makes the row failed.
 */
export function medianRow(runs) {
  const failed = runs.find((r) => r.error);
  if (failed) return failed;
  const row = { ...runs[0], exactlyOnce: runs.every((r) => r.exactlyOnce) };
  for (const [key, value] of Object.entries(runs[0])) {
    if (typeof value === 'number') row[key] = median(runs.map((r) => num(r[key])));
  }
  return row;
}

/**
 * `subjects[i] ÷ references[i]` for each pair of runs, then the median of those ratios for each metric (a pair ran
 * under the same conditions); with one run on either side, the ratio of the medians.
 */
function ratioLines(subjects, references, withTargets) {
  const paired = Math.min(subjects.length, references.length);
  return RATIOS.map(([label, key, max]) => {
    const each = paired > 1 ? subjects.slice(0, paired).map((s, i) => num(s[key]) / num(references[i][key])) : [num(medianRow(subjects)[key]) / num(medianRow(references)[key])];
    const ratio = median(each);
    const verdict = !withTargets || !Number.isFinite(ratio) ? '' : ratio <= max ? `  (target ≤ ${max}: ok)` : `  (target ≤ ${max}: MISSED)`;
    const spread = each.length > 1 ? ` (each pair: ${each.map((v) => fmt(v, 2)).join(', ')})` : '';
    return `- ${label}: ${fmt(ratio, 2)}${verdict}${spread}`;
  }).join('\n');
}

/** Ratio sections: Stoppress ÷ floor (with targets), Stoppress ÷ Socket.IO, and Socket.IO ÷ floor for context. `runs`: target → its runs. */
export function ratios(runs) {
  const by = Object.fromEntries(Object.entries(runs).filter(([, list]) => list.length > 0 && !list.some((r) => r.error)));
  const out = [];
  const caveat = (name) => (by[name].every((r) => r.exactlyOnce) ? '' : ` (${LABELS[name]} did not deliver everything exactly once in every run: read with care)`);
  if (by.stoppress && by.floor) out.push(`Stoppress ÷ floor${caveat('stoppress')}:\n${ratioLines(by.stoppress, by.floor, true)}`);
  if (by.stoppress && by.socketio) out.push(`Stoppress ÷ Socket.IO:\n${ratioLines(by.stoppress, by.socketio, false)}`);
  if (by.socketio && by.floor) out.push(`Socket.IO ÷ floor (context):\n${ratioLines(by.socketio, by.floor, false)}`);
  return out.join('\n\n');
}
