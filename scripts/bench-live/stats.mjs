// Small statistics helpers shared by the load process and the report.

/** Sorts a numeric typed array (or array) in place and returns it. */
export function sortNumbers(values) {
  return values.sort((a, b) => a - b);
}

/** Nearest-rank percentile of an already ascending-sorted array; `p` in 0..100. NaN when empty. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Median of an unsorted list of numbers (mean of the two middle values for an even count). */
export function median(values) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
