import { Redis } from 'ioredis';
import { storyIndexKey, storyKeys } from '../../src/store/keys.js';
import { redisUrl } from './test-service.js';

/** The seed of a fuzz run: FUZZ_SEED when set (to replay a failure), else a fixed one so the suite is deterministic. */
export function fuzzSeed(name: string, fallback: number): number {
  const seed = process.env.FUZZ_SEED === undefined ? fallback : Number(process.env.FUZZ_SEED);
  // Printed so that a failing run can be replayed with FUZZ_SEED=<seed>.
  process.stdout.write(`${name}: FUZZ_SEED=${seed}\n`);
  return seed;
}

/** A small deterministic PRNG (mulberry32) with the few helpers a generator needs. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A string of `length` characters drawn from `alphabet`. */
  string(length: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-'): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[this.int(0, alphabet.length - 1)];
    return out;
  }
}

const u64 = '18446744073709551615';
const over = '18446744073709551616';

/** Update ids near the edges: valid ones at the 64-bit limits, and invalid ones just past them or malformed. */
export function edgeId(random: Random): string {
  return random.pick([
    `${u64}-${u64}`,
    `${u64}-0`,
    `0-${u64}`,
    '0-0',
    '1-0',
    `${over}-0`,
    `0-${over}`,
    '99999999999999999999-0',
    `${u64}0-0`,
    '00-0',
    '01-1',
    '1-00',
    '-1-0',
    '1--1',
    '1e3-0',
    '0x10-0',
    '1-',
    '-',
    '1',
    '',
    ' 1-0',
    '1-0 ',
    '１-0',
    `${random.int(0, 2 ** 31)}-${random.int(0, 9)}`,
    `${'9'.repeat(random.int(19, 40))}-${'9'.repeat(random.int(1, 40))}`,
  ]);
}

/** What a story looks like in Redis: enough to tell that nothing wrote to it. */
export interface StorySnapshot {
  length: number;
  lastGeneratedId: string;
  entriesAdded: number;
  meta: Record<string, string>;
  indexScore: string | null;
  keys: string[];
}

/** Reads `story`'s stream info, metadata and index entry, and every key under `prefix`. */
export async function snapshotStory(prefix: string, story: string): Promise<StorySnapshot> {
  const redis = new Redis(redisUrl);
  try {
    const keys = storyKeys(prefix, story);
    const info = (await redis.xinfo('STREAM', keys.updates)) as (string | number)[];
    const field = (name: string): string | number => info[info.indexOf(name) + 1]!;
    const all: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      all.push(...found);
    } while (cursor !== '0');
    return {
      length: Number(field('length')),
      lastGeneratedId: String(field('last-generated-id')),
      entriesAdded: Number(field('entries-added')),
      meta: await redis.hgetall(keys.meta),
      indexScore: await redis.zscore(storyIndexKey(prefix), story),
      keys: all.sort(),
    };
  } finally {
    redis.disconnect();
  }
}
