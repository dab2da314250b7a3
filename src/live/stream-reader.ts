import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { compareUpdateIds } from '../protocol/update.js';
import { connectRedis } from '../store/redis-connection.js';
import { dataField, type StoredEntry, type StoryStore } from '../store/story-store.js';

export interface StreamReaderOptions {
  /** How long one XREAD blocks. Changes to the story set interrupt it at once (CLIENT UNBLOCK). @default 5000 */
  blockMs?: number;
  /** Entries read per story and call. @default 1000 */
  count?: number;
}

/** New entries of one story, in stream order. */
export interface StoryEntries {
  readonly story: string;
  readonly entries: readonly StoredEntry[];
}

/** Receives the new entries of every story one XREAD returned, each entry exactly once per process. */
export type EntriesListener = (batches: readonly StoryEntries[]) => void;

/**
 * The ONE blocking XREAD loop of a process, over every story that has local subscribers. Each entry is read
 * from Redis once per process, whatever the number of subscribers. Adding or removing a story interrupts the
 * pending block with CLIENT UNBLOCK from the command connection, so a new story is read without waiting out
 * the block.
 *
 * Contract: for an active story, `listener` gets every entry after the story's activation point, in order,
 * once. Entries older than the cursor (a late reply racing a re-activation) are dropped.
 *
 * Redis Cluster: XREAD over keys of several slots is refused there (CROSSSLOT); a cluster deployment needs one
 * reader per shard, which this class does not do yet.
 */
export class StreamReader {
  readonly #blocking: Redis;
  readonly #command: Redis;
  readonly #store: StoryStore;
  readonly #listener: EntriesListener;
  readonly #log: Logger;
  readonly #blockMs: number;
  readonly #count: number;
  /** story → id of the last entry handed to the listener. */
  readonly #cursors = new Map<string, string>();
  readonly #keyToStory = new Map<string, string>();
  readonly #activations = new Map<string, Promise<void>>();
  #blockingClientId: number | undefined;
  #reading = false;
  #running = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(blocking: Redis, command: Redis, store: StoryStore, listener: EntriesListener, log: Logger, options: StreamReaderOptions = {}) {
    this.#blocking = blocking;
    this.#command = command;
    this.#store = store;
    this.#listener = listener;
    this.#log = log;
    this.#blockMs = options.blockMs ?? 5_000;
    this.#count = options.count ?? 1_000;
  }

  /** Starts the loop. The blocking connection's client id is re-read on every (re)connect for CLIENT UNBLOCK. */
  async start(): Promise<void> {
    this.#blocking.on('ready', this.#blockingOnReady);
    await connectRedis(this.#blocking);
    await this.#readClientId();
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops the loop and closes the blocking connection. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    this.#blocking.disconnect();
    await this.#loop;
  }

  /**
   * Starts reading `story` from its current last entry. Resolves once the activation point is fixed: every
   * entry appended after the promise resolves reaches the listener. Concurrent calls share one activation.
   */
  activate(story: string): Promise<void> {
    if (this.#cursors.has(story)) return Promise.resolve();
    let pending = this.#activations.get(story);
    if (!pending) {
      pending = this.#store
        .lastId(story)
        .then((lastId) => {
          this.#cursors.set(story, lastId ?? '0-0');
          this.#keyToStory.set(this.#store.streamKey(story), story);
          this.#interrupt();
        })
        .finally(() => this.#activations.delete(story));
      this.#activations.set(story, pending);
    }
    return pending;
  }

  /** Stops reading `story` (its last local subscriber left). */
  deactivate(story: string): void {
    if (!this.#cursors.delete(story)) return;
    this.#keyToStory.delete(this.#store.streamKey(story));
    this.#interrupt();
  }

  /** Id of the last entry of `story` handed to the listener ("0-0" when none yet); undefined when not active. */
  cursor(story: string): string | undefined {
    return this.#cursors.get(story);
  }

  /** Number of stories being read. */
  get activeStories(): number {
    return this.#cursors.size;
  }

  readonly #blockingOnReady = (): void => {
    void this.#readClientId();
  };

  async #readClientId(): Promise<void> {
    try {
      this.#blockingClientId = Number(await this.#blocking.client('ID'));
    } catch (error) {
      this.#log.warn({ err: error }, 'could not read the blocking connection id');
    }
  }

  /** Makes a pending XREAD return now, so the next one covers the changed story set. */
  #interrupt(): void {
    if (this.#wake) {
      this.#wake();
      return;
    }
    if (this.#reading && this.#blockingClientId !== undefined) {
      this.#command.client('UNBLOCK', this.#blockingClientId).catch((error: unknown) => {
        this.#log.warn({ err: error }, 'CLIENT UNBLOCK failed; the reader picks the change up after its block');
      });
    }
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (this.#running) {
      if (this.#cursors.size === 0) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      const keys: string[] = [];
      const ids: string[] = [];
      // Keys were built once at activation; both maps hold exactly the active stories.
      for (const [key, story] of this.#keyToStory) {
        keys.push(key);
        ids.push(this.#cursors.get(story)!);
      }
      try {
        this.#reading = true;
        const reply = (await this.#blocking.xread('COUNT', this.#count, 'BLOCK', this.#blockMs, 'STREAMS', ...keys, ...ids)) as
          | [string, [string, string[]][]][]
          | null;
        this.#reading = false;
        failures = 0;
        if (reply) this.#dispatch(reply);
      } catch (error) {
        this.#reading = false;
        if (!this.#running) break;
        failures += 1;
        this.#log.warn({ err: error, failures }, 'stream read failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * failures, 2_000)));
      }
    }
  }

  #dispatch(reply: [string, [string, string[]][]][]): void {
    const batches: StoryEntries[] = [];
    for (const [key, rawEntries] of reply) {
      const story = this.#keyToStory.get(key);
      if (story === undefined) continue;
      const cursor = this.#cursors.get(story);
      if (cursor === undefined) continue;
      const entries: StoredEntry[] = [];
      for (const [id, fields] of rawEntries) {
        if (compareUpdateIds(id, cursor) <= 0) continue;
        entries.push({ id, data: dataField(fields) });
      }
      if (entries.length === 0) continue;
      this.#cursors.set(story, entries[entries.length - 1]!.id);
      batches.push({ story, entries });
    }
    if (batches.length === 0) return;
    try {
      this.#listener(batches);
    } catch (error) {
      this.#log.error({ err: error, stories: batches.map((b) => b.story) }, 'live listener failed');
    }
  }
}
