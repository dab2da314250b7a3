// Zod-free (types only), so the browser bundles take it as a value without pulling in zod.
import type { Update, ViewUpdate } from './update.js';

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
