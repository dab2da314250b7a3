import { describe, expect, it } from 'vitest';
import { compareUpdateIds } from '../../src/protocol/ids.js';

/** The order by the numbers themselves, as Redis orders stream ids. */
function byNumbers(a: string, b: string): number {
  const [aMs = '0', aSeq = '0'] = a.split('-');
  const [bMs = '0', bSeq = '0'] = b.split('-');
  const ms = BigInt(aMs) - BigInt(bMs);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(aSeq) - BigInt(bSeq);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** A deterministic stream of numbers (xorshift), so a failure can be replayed. */
function numbers(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const max = '18446744073709551615';

describe('compareUpdateIds', () => {
  it('orders ids as their numbers do, across lengths, the 64-bit edge and equal parts', () => {
    const random = numbers(20261129);
    const part = (): string => {
      const pick = random();
      if (pick < 0.1) return '0';
      if (pick < 0.2) return max;
      if (pick < 0.3) return String(Math.floor(random() * 10));
      const digits = 1 + Math.floor(random() * 20);
      let text = String(1 + Math.floor(random() * 9));
      while (text.length < digits) text += String(Math.floor(random() * 10));
      return text.length === 20 && text > max ? max : text;
    };
    const ids: string[] = ['0-0', '0-1', '1-0', '9-9', '10-0', '1644914400000-0', '1644914400000-10', '1644914400000-9', `${max}-${max}`, `${max}-0`];
    for (let i = 0; i < 2_000; i++) ids.push(`${part()}-${part()}`);
    for (let i = 0; i < ids.length; i++) {
      for (const j of [i, (i * 7 + 3) % ids.length, (i * 13 + 1) % ids.length, i === 0 ? 1 : i - 1]) {
        const [a, b] = [ids[i]!, ids[j]!];
        expect(compareUpdateIds(a, b), `${a} vs ${b}`).toBe(byNumbers(a, b));
      }
    }
    expect([...ids].sort(compareUpdateIds)).toEqual([...ids].sort(byNumbers));
  });

  it('reads an id without a sequence as sequence 0', () => {
    expect(compareUpdateIds('5', '5-0')).toBe(0);
    expect(compareUpdateIds('5', '5-1')).toBe(-1);
    expect(compareUpdateIds('10', '9-99')).toBe(1);
  });
});
