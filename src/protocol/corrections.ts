// Zod-free (types only), so the browser bundles take it as a value without pulling in zod.
import type { StoryChange, Update, ViewUpdate } from './update.js';

/** The fields of an update that a correction changes or that its rendering needs. */
export type CorrectableUpdate = Pick<ViewUpdate, 'publishedAt' | 'text' | 'withdrawn' | 'corrections' | 'lang'>;

/**
 * `target` with `correction` folded in: the correction joins `corrections`; a retraction withdraws the target
 * (no text), a text correction sets the text (and restores a withdrawn update). The one folding rule shared by
 * the story view (store/fold.ts), the client library and the pages.
 * Returns `target` unchanged when this correction is already in its history. Pure: `target` is not modified.
 */
export function applyCorrection<T extends CorrectableUpdate>(target: T, correction: Update): T {
  if (target.corrections?.some((c) => c.id === correction.id)) return target;
  const corrections = [
    ...(target.corrections ?? []),
    { id: correction.id, note: correction.note ?? '', publishedAt: correction.publishedAt, ...(correction.retract ? { retract: true } : {}) },
  ];
  const next: T = { ...target, corrections };
  if (correction.retract) {
    next.withdrawn = true;
    delete next.text;
  } else {
    delete next.withdrawn;
    next.text = correction.text;
  }
  return next;
}

/**
 * `target` with the flags of a story change folded in: `key` set or cleared as the change says (`pinned` is the
 * story's, in its metadata). Returns `target` unchanged when the change does not concern it. Pure.
 */
export function applyFlags<T extends Pick<ViewUpdate, 'id' | 'key'>>(target: T, change: StoryChange): T {
  const flags = change.flags;
  if (!flags || flags.update !== target.id || flags.key === undefined || flags.key === (target.key === true)) return target;
  const next: T = { ...target };
  if (flags.key) next.key = true;
  else delete next.key;
  return next;
}
