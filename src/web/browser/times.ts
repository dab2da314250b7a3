/**
 * Shows the `<time data-time>` elements the pages render (in UTC, for readers without JavaScript) in the
 * reader's locale and time zone: `absolute` as a date and time, `relative` as "4 min ago" (with the absolute
 * time as a tooltip) for the last day and as a date and time beyond.
 */

/** How often relative times are rewritten. */
export const timeRefreshMs = 30_000;

const absoluteFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const absoluteWithYear = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' });
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });

/** "15 Feb, 10:50" in the reader's zone; with the year when it is not this year. */
export function formatAbsolute(ms: number, nowMs: number = Date.now()): string {
  return new Date(ms).getFullYear() === new Date(nowMs).getFullYear() ? absoluteFormat.format(ms) : absoluteWithYear.format(ms);
}

/** "now", "4 min ago", "3 hr ago" within a day, else the absolute time. */
export function formatRelative(ms: number, nowMs: number = Date.now()): string {
  const seconds = Math.round((ms - nowMs) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return relativeFormat.format(0, 'second');
  if (abs < 45 * 60) return relativeFormat.format(Math.round(seconds / 60), 'minute');
  if (abs < 22 * 3600) return relativeFormat.format(Math.round(seconds / 3600), 'hour');
  return formatAbsolute(ms, nowMs);
}

/** Rewrites every `time[data-time]` under `root`. */
export function refreshTimes(root: ParentNode, nowMs: number = Date.now()): void {
  for (const element of root.querySelectorAll<HTMLTimeElement>('time[data-time]')) {
    const ms = Date.parse(element.dateTime);
    if (Number.isNaN(ms)) continue;
    const text = element.dataset.time === 'relative' ? formatRelative(ms, nowMs) : formatAbsolute(ms, nowMs);
    if (element.textContent !== text) element.textContent = text;
    const title = fullFormat.format(ms);
    if (element.title !== title) element.title = title;
  }
}

/** Formats the times under `root` now and every `timeRefreshMs` (and when the tab becomes visible again). */
export function keepTimesCurrent(root: ParentNode): void {
  refreshTimes(root);
  setInterval(() => refreshTimes(root), timeRefreshMs);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') refreshTimes(root);
  });
}
