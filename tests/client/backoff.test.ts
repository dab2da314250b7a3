import { describe, expect, it } from 'vitest';
import { backoffDelay, checkBackoff, defaultBackoff } from '../../src/client/backoff.js';

const options = { minDelayMs: 250, maxDelayMs: 15_000, factor: 2 };

describe('backoffDelay', () => {
  it('defaults to 250 ms doubling up to 15 s', () => {
    expect(defaultBackoff).toEqual(options);
  });

  it('draws from [0, minDelayMs · factor^attempt] (full jitter)', () => {
    expect(backoffDelay(0, options, () => 0)).toBe(0);
    expect(backoffDelay(0, options, () => 0.5)).toBe(125);
    expect(backoffDelay(0, options, () => 0.999_999)).toBe(249);
    expect(backoffDelay(1, options, () => 0.999_999)).toBe(499);
    expect(backoffDelay(3, options, () => 0.5)).toBe(1_000);
  });

  it('grows the bound exponentially until maxDelayMs, then stays there', () => {
    const bounds = Array.from({ length: 10 }, (_, attempt) => backoffDelay(attempt, options, () => 1));
    expect(bounds).toEqual([250, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000, 15_000]);
    expect(backoffDelay(10_000, options, () => 1)).toBe(15_000);
  });

  it('never leaves the window, even with a random source out of [0, 1)', () => {
    expect(backoffDelay(2, options, () => -3)).toBe(0);
    expect(backoffDelay(2, options, () => 7)).toBe(1_000);
    expect(backoffDelay(-1, options, () => 1)).toBe(250);
  });

  it('spreads many clients over the whole window', () => {
    let seed = 42;
    const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const delays = Array.from({ length: 2_000 }, () => backoffDelay(4, options, random));
    expect(Math.min(...delays)).toBeLessThan(200);
    expect(Math.max(...delays)).toBeGreaterThan(3_800);
    expect(delays.every((d) => d >= 0 && d <= 4_000 && Number.isInteger(d))).toBe(true);
  });

  it('honours other factors and bounds', () => {
    expect(backoffDelay(2, { minDelayMs: 10, maxDelayMs: 50, factor: 3 }, () => 1)).toBe(50);
    expect(backoffDelay(1, { minDelayMs: 10, maxDelayMs: 50, factor: 3 }, () => 1)).toBe(30);
    expect(backoffDelay(5, { minDelayMs: 100, maxDelayMs: 1_000, factor: 1 }, () => 1)).toBe(100);
  });
});

describe('checkBackoff', () => {
  it('refuses options that cannot work, naming the option', () => {
    expect(() => checkBackoff({ ...options, minDelayMs: 0 })).toThrow(/minDelayMs/);
    expect(() => checkBackoff({ ...options, maxDelayMs: 100 })).toThrow(/maxDelayMs/);
    expect(() => checkBackoff({ ...options, factor: 0.5 })).toThrow(/factor/);
    expect(() => checkBackoff(options)).not.toThrow();
  });
});
