import type { Update, ViewUpdate } from '../protocol/update.js';

/**
 * Folds corrections into their targets, for the story view. Pure.
 *
 * - Input: stream entries oldest first. Output: the statements and reactions, oldest first; corrections are
 *   not items of their own.
 * - Each target lists every correction applied to it, oldest first, in `corrections`.
 * - The latest correction wins: it sets `text`, or, with `retract`, marks the target `withdrawn` and drops its text.
 *   A later text correction of a withdrawn update restores it with the new text.
 * - A correction whose target is no longer retained (trimmed) is skipped.
 */
export function foldCorrections(entries: readonly Update[]): ViewUpdate[] {
  const view: ViewUpdate[] = [];
  const byId = new Map<string, ViewUpdate>();
  for (const entry of entries) {
    if (entry.kind !== 'correction') {
      const item: ViewUpdate = { ...entry };
      byId.set(entry.id, item);
      view.push(item);
      continue;
    }
    const target = entry.corrects === undefined ? undefined : byId.get(entry.corrects);
    if (!target) continue;
    (target.corrections ??= []).push({
      id: entry.id,
      note: entry.note ?? '',
      publishedAt: entry.publishedAt,
      ...(entry.retract ? { retract: true } : {}),
    });
    if (entry.retract) {
      target.withdrawn = true;
      delete target.text;
    } else {
      delete target.withdrawn;
      target.text = entry.text;
    }
  }
  return view;
}
