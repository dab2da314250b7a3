import type { Logger } from 'pino';
import type { RedisClient } from './redis-client.js';
import { guardRedis } from './redis-connection.js';

/** One story's index write on the wire, and the one that will follow it, if any. */
interface StoryWrites {
  /** The highest time asked for since the write on the wire was sent; undefined when nothing waits. */
  nextMs?: number;
  /** Settles once a write covering `nextMs` has been answered (or handed to the repair). */
  next?: Promise<void>;
  resolveNext?: () => void;
}

/**
 * Keeps the global story index (a sorted set: story → time of its newest update, ms) current after each write.
 *
 * Each write is `ZADD GT` (never moves a story back), idempotent, and its own step after the story's own
 * atomic write (the index lives in its own Cluster slot). A caller's promise settles once a ZADD covering its
 * time has been answered, so a node lists a story it has just answered 201 for.
 *
 * At most one ZADD per story is on the wire: while one is, later times for that story wait and go out together
 * as one ZADD of their highest time when it returns. Under a burst on one story (8,000 POSTs a second) that is one
 * command a round trip instead of one per update; it costs a waiter nothing, since ioredis's auto-pipeline would
 * have held its own ZADD back behind the batch on the wire all the same.
 *
 * A ZADD that fails never fails the caller (the update is stored; an error would invite a duplicate): the story
 * is handed to a background repair that retries with backoff.
 */
export class StoryIndexWriter {
  readonly #redis: RedisClient;
  readonly #key: string;
  readonly #log: Logger | undefined;
  readonly #writing = new Map<string, StoryWrites>();
  /** Stories whose index entry could not be written: story → the time (ms) to record. */
  readonly #repairs = new Map<string, number>();
  #repairTimer: NodeJS.Timeout | undefined;

  constructor(redis: RedisClient, key: string, log?: Logger) {
    this.#redis = redis;
    this.#key = key;
    this.#log = log;
  }

  /** Puts `story` at `ms` in the index; resolves once a write covering `ms` was answered. Never rejects. */
  record(story: string, ms: number): Promise<void> {
    const writes = this.#writing.get(story);
    if (!writes) return this.#send(story, ms);
    writes.nextMs = Math.max(ms, writes.nextMs ?? 0);
    writes.next ??= new Promise<void>((resolve) => (writes.resolveNext = resolve));
    return writes.next;
  }

  async #send(story: string, ms: number): Promise<void> {
    const writes: StoryWrites = {};
    this.#writing.set(story, writes);
    try {
      await this.#zadd(story, ms);
    } catch (error) {
      this.#log?.warn({ story, err: error instanceof Error ? error.message : String(error) }, 'story index not updated; repairing it in the background');
      this.#repairs.set(story, Math.max(ms, this.#repairs.get(story) ?? 0));
      this.#scheduleRepair(1_000);
    }
    if (writes.nextMs === undefined) {
      this.#writing.delete(story);
      return;
    }
    void this.#send(story, writes.nextMs).then(writes.resolveNext);
  }

  #zadd(story: string, ms: number): Promise<unknown> {
    return guardRedis(() => this.#redis.zadd(this.#key, 'GT', ms, story));
  }

  #scheduleRepair(delayMs: number): void {
    if (this.#repairTimer) return;
    this.#repairTimer = setTimeout(() => {
      this.#repairTimer = undefined;
      void this.#repair(delayMs);
    }, delayMs);
    this.#repairTimer.unref();
  }

  async #repair(delayMs: number): Promise<void> {
    for (const [story, ms] of [...this.#repairs]) {
      try {
        await this.#zadd(story, ms);
        if (this.#repairs.get(story) === ms) this.#repairs.delete(story);
        this.#log?.info({ story }, 'story index repaired');
      } catch {
        this.#scheduleRepair(Math.min(delayMs * 2, 30_000));
        return;
      }
    }
  }

  /** Stops background repairs (on shutdown). */
  close(): void {
    clearTimeout(this.#repairTimer);
    this.#repairTimer = undefined;
  }
}
