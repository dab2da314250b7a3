import { describe, expect, it } from 'vitest';
import type { StoryChange, Update } from '../../src/protocol/update.js';
import { foldCorrections, foldMore } from '../../src/store/fold.js';

const story = 'fold-unit';
let clockMs = 1_644_914_400_000;

/** A stream entry as the store hands it to the fold: ids strictly increasing, publishedAt read off the id. */
function entry(fields: Partial<Update> & Pick<Update, 'kind'>): Update {
  clockMs += 1_000;
  const id = `${clockMs}-0`;
  return {
    id,
    story,
    occurredAt: '2022-02-15T10:00:00+03:00',
    publishedAt: new Date(clockMs).toISOString(),
    ...fields,
  };
}

const said = (text: string, extra: Partial<Update> = {}): Update => entry({ kind: 'statement', text, ...extra });
const corrects = (target: Update, text: string, note: string): Update => entry({ kind: 'correction', corrects: target.id, text, note });
const retracts = (target: Update, note: string): Update => entry({ kind: 'correction', corrects: target.id, retract: true, note });

describe('foldCorrections', () => {
  it('replaces the target text with the corrected text and lists the correction', () => {
    const target = said('The exercises end on 20 January.');
    const fix = corrects(target, 'The exercises end on 20 February.', 'The date was wrong.');

    const view = foldCorrections([target, fix]);

    expect(view).toHaveLength(1);
    expect(view[0]).toMatchObject({ id: target.id, kind: 'statement', text: 'The exercises end on 20 February.' });
    expect(view[0]!.corrections).toEqual([{ id: fix.id, note: 'The date was wrong.', publishedAt: fix.publishedAt }]);
    expect(view[0]!.withdrawn).toBeUndefined();
  });

  it('lets the latest of several corrections win and lists them all, oldest first', () => {
    const target = said('first');
    const one = corrects(target, 'second', 'note one');
    const two = corrects(target, 'third', 'note two');
    const three = corrects(target, 'fourth', 'note three');

    const [item] = foldCorrections([target, one, two, three]);

    expect(item!.text).toBe('fourth');
    expect(item!.corrections!.map((c) => [c.id, c.note])).toEqual([
      [one.id, 'note one'],
      [two.id, 'note two'],
      [three.id, 'note three'],
    ]);
  });

  it('shows a retracted target as withdrawn, without text, with the note listed', () => {
    const target = said('A claim that turned out false.');
    const retraction = retracts(target, 'We withdraw this: the quote was misattributed.');

    const [item] = foldCorrections([target, retraction]);

    expect(item!.withdrawn).toBe(true);
    expect(item).not.toHaveProperty('text');
    expect(item!.corrections).toEqual([
      { id: retraction.id, note: 'We withdraw this: the quote was misattributed.', publishedAt: retraction.publishedAt, retract: true },
    ]);
  });

  it('restores a withdrawn update when a later correction gives it text again', () => {
    const target = said('original');
    const retraction = retracts(target, 'withdrawn for checking');
    const restore = corrects(target, 'checked and reworded', 'restored after checking');

    const [item] = foldCorrections([target, retraction, restore]);

    expect(item!.text).toBe('checked and reworded');
    expect(item!.withdrawn).toBeUndefined();
    expect(item!.corrections!.map((c) => c.id)).toEqual([retraction.id, restore.id]);
    expect(item!.corrections![0]!.retract).toBe(true);
    expect(item!.corrections![1]).not.toHaveProperty('retract');
  });

  it('skips a correction whose target was trimmed from the stream', () => {
    const trimmedTargetId = '1000-0';
    const kept = said('still here');
    const orphan = entry({ kind: 'correction', corrects: trimmedTargetId, text: 'corrected', note: 'n' });

    const view = foldCorrections([kept, orphan]);

    expect(view).toHaveLength(1);
    expect(view[0]!.id).toBe(kept.id);
    expect(view[0]!.text).toBe('still here');
    expect(view[0]!.corrections).toBeUndefined();
  });

  it('never lists a correction as an item of its own', () => {
    const a = said('a');
    const b = entry({ kind: 'reaction', text: 'b', inReplyTo: a.id });
    const view = foldCorrections([a, corrects(a, 'a2', 'n'), b, retracts(b, 'n'), corrects(a, 'a3', 'n')]);

    expect(view.map((u) => u.kind)).toEqual(['statement', 'reaction']);
    expect(view.every((u) => u.kind !== 'correction')).toBe(true);
  });

  it('keeps the items in stream order, oldest first, whatever gets corrected', () => {
    const a = said('a');
    const b = said('b');
    const c = entry({ kind: 'reaction', text: 'c', inReplyTo: a.id });
    const view = foldCorrections([a, b, corrects(a, 'a2', 'n'), c, corrects(b, 'b2', 'n')]);

    expect(view.map((u) => u.id)).toEqual([a.id, b.id, c.id]);
    expect(view.map((u) => u.text)).toEqual(['a2', 'b2', 'c']);
  });

  it('leaves its input entries untouched', () => {
    const target = said('original');
    const input = [target, corrects(target, 'changed', 'n')];
    const before = structuredClone(input);

    foldCorrections(input);

    expect(input).toEqual(before);
  });

  it('answers an empty view for no entries', () => {
    expect(foldCorrections([])).toEqual([]);
  });
});

describe('foldMore', () => {
  it('continuing the fold chunk by chunk gives what one fold of the whole stream gives', () => {
    let seed = 7;
    const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
    for (let round = 0; round < 50; round++) {
      const entries: Update[] = [];
      for (let i = 0; i < 60; i++) {
        const targets = entries.filter((e) => e.kind !== 'correction');
        const target = targets[Math.floor(random() * targets.length)];
        const roll = random();
        if (!target || roll < 0.5) entries.push(said(`s${i}`));
        else if (roll < 0.65) entries.push(entry({ kind: 'reaction', text: `r${i}`, inReplyTo: target.id }));
        else if (roll < 0.85) entries.push(corrects(target, `fixed ${i}`, `n${i}`));
        else entries.push(retracts(target, `w${i}`));
      }
      let folded = foldMore([], []);
      for (let at = 0; at < entries.length; ) {
        const next = at + 1 + Math.floor(random() * 7);
        const before = JSON.stringify(folded);
        const continued = foldMore(folded, entries.slice(at, next));
        expect(JSON.stringify(folded)).toBe(before);
        folded = continued;
        at = next;
      }
      expect(folded).toEqual(foldCorrections(entries));
    }
  });
});


describe('story changes in the fold', () => {
  const change = (flags?: StoryChange['flags']): StoryChange => {
    clockMs += 1_000;
    return { id: `${clockMs}-0`, story, publishedAt: new Date(clockMs).toISOString(), kind: 'story', meta: { title: 'T' }, ...(flags ? { flags } : {}) };
  };

  it('sets and clears key flags on their targets and makes no item of a story change', () => {
    const a = said('a');
    const b = said('b', { key: true });
    const view = foldCorrections([a, change(), b, change({ update: a.id, key: true }), change({ update: b.id, key: false, pinned: true })]);
    expect(view.map((u) => [u.id, u.key])).toEqual([
      [a.id, true],
      [b.id, undefined],
    ]);
  });

  it('folds flags incrementally to the same result', () => {
    const a = said('a');
    const entries = [a, change({ update: a.id, key: true }), said('b'), change({ update: a.id, key: false })];
    expect(foldMore(foldCorrections(entries.slice(0, 2)), entries.slice(2))).toEqual(foldCorrections(entries));
    expect(foldCorrections(entries)[0]!.key).toBeUndefined();
  });

  it('skips flags whose target is no longer retained', () => {
    const a = said('a');
    expect(foldCorrections([change({ update: '1-0', key: true }), a])).toEqual([a]);
  });
});
