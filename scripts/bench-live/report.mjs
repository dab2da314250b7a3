// Turns the per-target measurements into the markdown table and the ratio lines.
import { LABELS } from './targets.mjs';

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

function ratioLines(subject, reference, withTargets) {
  return RATIOS.map(([label, key, max]) => {
    const ratio = num(subject[key]) / num(reference[key]);
    const verdict = !withTargets || !Number.isFinite(ratio) ? '' : ratio <= max ? `  (target ≤ ${max}: ok)` : `  (target ≤ ${max}: MISSED)`;
    return `- ${label}: ${fmt(ratio, 2)}${verdict}`;
  }).join('\n');
}

/** Ratio sections: Stoppress ÷ floor (with targets), Stoppress ÷ Socket.IO, and Socket.IO ÷ floor for context. */
export function ratios(rows) {
  const by = Object.fromEntries(rows.filter((r) => !r.error).map((r) => [r.name, r]));
  const out = [];
  const caveat = (r) => (r.exactlyOnce ? '' : ` (${LABELS[r.name]} did not deliver everything exactly once: read with care)`);
  if (by.stoppress && by.floor) out.push(`Stoppress ÷ floor${caveat(by.stoppress)}:\n${ratioLines(by.stoppress, by.floor, true)}`);
  if (by.stoppress && by.socketio) out.push(`Stoppress ÷ Socket.IO:\n${ratioLines(by.stoppress, by.socketio, false)}`);
  if (by.socketio && by.floor) out.push(`Socket.IO ÷ floor (context):\n${ratioLines(by.socketio, by.floor, false)}`);
  return out.join('\n\n');
}
