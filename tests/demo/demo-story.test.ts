import { describe, it, expect } from 'vitest';
import { StoryId, StoryMetaInput, UpdateInput } from '../../src/protocol/update.js';
import { demoEntries, demoLiveFrom, demoMeta, demoStoryId, type DemoEntry } from '../../src/demo/demo-story.js';

/** A fake Redis id per entry, in publishing order: entry i gets `${i + 1}-0`. */
const fakeIds = new Map(demoEntries.map((e, i) => [e.ref, `${i + 1}-0`] as const));
const idOf = (ref: string): string => fakeIds.get(ref) ?? `unknown-ref:${ref}`;

/** What the demo loader would POST for an entry: refs resolved to ids, ref fields dropped. */
function toInput(entry: DemoEntry): unknown {
  if (entry.kind === 'correction') {
    const { ref: _ref, correctsRef, ...rest } = entry;
    return { ...rest, corrects: idOf(correctsRef) };
  }
  const { ref: _ref, inReplyToRef, ...rest } = entry;
  return inReplyToRef === undefined ? rest : { ...rest, inReplyTo: idOf(inReplyToRef) };
}

const indexOf = (ref: string): number => demoEntries.findIndex((e) => e.ref === ref);
const isStatementLike = (e: DemoEntry): e is Extract<DemoEntry, { kind: 'statement' | 'reaction' }> => e.kind !== 'correction';

describe('demo story', () => {
  it('has a valid story id and metadata', () => {
    expect(StoryId.safeParse(demoStoryId).success).toBe(true);
    const meta = StoryMetaInput.safeParse(demoMeta);
    expect(meta.success, meta.success ? '' : JSON.stringify(meta.error.issues, null, 2)).toBe(true);
    expect(demoMeta.status).toBe('live');
  });

  it('has every entry pass UpdateInput once refs become ids', () => {
    for (const entry of demoEntries) {
      const parsed = UpdateInput.safeParse(toInput(entry));
      expect(parsed.success, parsed.success ? '' : `${entry.ref}: ${JSON.stringify(parsed.error.issues, null, 2)}`).toBe(true);
    }
  });

  it('keeps texts short and marks 3-4 entries as key', () => {
    for (const entry of demoEntries) {
      if (entry.text !== undefined) expect(entry.text.length, entry.ref).toBeLessThanOrEqual(600);
    }
    const keys = demoEntries.filter((e) => isStatementLike(e) && e.key === true).length;
    expect(keys).toBeGreaterThanOrEqual(3);
    expect(keys).toBeLessThanOrEqual(4);
  });

  it('has unique refs', () => {
    const refs = demoEntries.map((e) => e.ref);
    expect(new Set(refs).size).toBe(refs.length);
  });

  it('points inReplyToRef and correctsRef at an earlier entry that is not a correction', () => {
    demoEntries.forEach((entry, i) => {
      const target = entry.kind === 'correction' ? entry.correctsRef : entry.inReplyToRef;
      if (target === undefined) return;
      const j = indexOf(target);
      expect(j, `${entry.ref} -> ${target}`).toBeGreaterThanOrEqual(0);
      expect(j, `${entry.ref} -> ${target}`).toBeLessThan(i);
      expect(demoEntries[j]?.kind, `${entry.ref} -> ${target}`).not.toBe('correction');
    });
  });

  it('has non-decreasing occurredAt for statements and reactions', () => {
    let previous = Number.NEGATIVE_INFINITY;
    let previousRef = '(start)';
    for (const entry of demoEntries.filter(isStatementLike)) {
      const t = Date.parse(entry.occurredAt);
      expect(Number.isNaN(t), entry.ref).toBe(false);
      expect(t, `${entry.ref} is earlier than ${previousRef}`).toBeGreaterThanOrEqual(previous);
      previous = t;
      previousRef = entry.ref;
    }
  });

  it('splits into a loaded part and a live part that contains a correction', () => {
    expect(Number.isInteger(demoLiveFrom)).toBe(true);
    expect(demoLiveFrom).toBeGreaterThan(0);
    expect(demoLiveFrom).toBeLessThan(demoEntries.length);
    const live = demoEntries.slice(demoLiveFrom);
    expect(live.some((e) => e.kind === 'correction')).toBe(true);
    expect(live.some((e) => e.kind === 'reaction')).toBe(true);
  });

  it('corrects the Belarus exercises end date from 20 January to 20 February', () => {
    const fix = demoEntries.find(
      (e): e is Extract<DemoEntry, { kind: 'correction' }> => e.kind === 'correction' && (e.text ?? '').includes('20 February'),
    );
    expect(fix).toBeDefined();
    const target = demoEntries[indexOf(fix?.correctsRef ?? '')];
    expect(target?.kind).not.toBe('correction');
    expect(target?.text).toContain('20 January');
    expect(fix?.note.length).toBeGreaterThan(0);
  });

  it('has two corrections', () => {
    expect(demoEntries.filter((e) => e.kind === 'correction')).toHaveLength(2);
  });
});
