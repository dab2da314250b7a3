import { describe, expect, it } from 'vitest';
import { ByteLru } from '../../src/read/byte-lru.js';
import { ifNoneMatchHits, negotiateCoding } from '../../src/read/cached-reply.js';

describe('ByteLru', () => {
  it('evicts the least recently used values when the bytes pass the budget, sparing the one just used', () => {
    const evicted: string[] = [];
    const lru = new ByteLru<string, string>(100, (key) => evicted.push(key));
    lru.set('a', 'A', 40);
    lru.set('b', 'B', 40);
    expect(lru.get('a')).toBe('A');
    lru.set('c', 'C', 40);
    expect(evicted).toEqual(['b']);
    expect(lru.bytes).toBe(80);
    lru.resize('c', 'C', 90);
    expect(evicted).toEqual(['b', 'a']);
    expect(lru.bytes).toBe(90);
    lru.resize('c', 'other value', 10);
    expect(lru.bytes).toBe(90);
    lru.set('d', 'D', 500);
    expect(lru.size).toBe(1);
    expect(lru.bytes).toBe(500);
  });
});

describe('content negotiation', () => {
  it.each([
    [undefined, 'identity'],
    ['', 'identity'],
    ['gzip', 'gzip'],
    ['gzip, deflate, br', 'br'],
    ['br;q=0, gzip;q=0.5', 'gzip'],
    ['*', 'br'],
    ['*;q=0, gzip', 'gzip'],
    ['identity', 'identity'],
    ['deflate', 'identity'],
  ])('Accept-Encoding %j → %s', (header, coding) => {
    expect(negotiateCoding(header)).toBe(coding);
  });

  it('matches If-None-Match lists, weak tags and *', () => {
    expect(ifNoneMatchHits('"1-0.0.br"', '"1-0.0.br"')).toBe(true);
    expect(ifNoneMatchHits('"x", W/"1-0.0.br"', '"1-0.0.br"')).toBe(true);
    expect(ifNoneMatchHits('*', '"1-0.0.br"')).toBe(true);
    expect(ifNoneMatchHits('"1-0.0.gzip"', '"1-0.0.br"')).toBe(false);
    expect(ifNoneMatchHits(undefined, '"1-0.0.br"')).toBe(false);
  });
});
