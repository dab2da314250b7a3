import { applyCorrection, applyFlags } from '../protocol/corrections.js';
import type { StreamEntry, ViewUpdate } from '../protocol/update.js';

/**
 * Folds corrections into their targets, for the story view. Pure.
 *
 * - Input: stream entries oldest first. Output: the statements and reactions, oldest first; corrections are
 *   not items of their own.
 * - Each target lists every correction applied to it, oldest first, in `corrections`.
 * - The latest correction wins (see applyCorrection): it sets `text`, or, with `retract`, marks the target
 *   `withdrawn` and drops its text. A later text correction of a withdrawn update restores it with the new text.
 * - A correction whose target is no longer retained (trimmed) is skipped.
 * - Story changes are not items either: a flags change sets or clears its target's `key` (see applyFlags); the
 *   story's metadata (title, status, pinned…) comes from the meta hash, not from the fold.
 */
export function foldCorrections(entries: readonly StreamEntry[]): ViewUpdate[] {
  return foldMore([], entries);
}

/**
 * Continues the fold: `folded` is the result of folding the stream's entries up to some id (oldest first), and
 * `entries` the entries after it. The result equals foldCorrections over the whole stream, because the fold is
 * one pass in stream order. Pure: `folded` and its items are not modified.
 */
export function foldMore(folded: readonly ViewUpdate[], entries: readonly StreamEntry[]): ViewUpdate[] {
  const view: ViewUpdate[] = [...folded];
  const indexById = new Map<string, number>();
  for (let i = 0; i < view.length; i++) indexById.set(view[i]!.id, i);
  for (const entry of entries) {
    if (entry.kind === 'story') {
      const index = entry.flags === undefined ? undefined : indexById.get(entry.flags.update);
      if (index !== undefined) view[index] = applyFlags(view[index]!, entry);
      continue;
    }
    if (entry.kind !== 'correction') {
      indexById.set(entry.id, view.push({ ...entry }) - 1);
      continue;
    }
    const index = entry.corrects === undefined ? undefined : indexById.get(entry.corrects);
    if (index !== undefined) view[index] = applyCorrection(view[index]!, entry);
  }
  return view;
}
