import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import { compareUpdateIds } from '../protocol/ids.js';
import type { StorySnapshot, StoryStamp } from '../store/story-store.js';
import { ByteLru } from './byte-lru.js';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/** A content coding the cache stores beside the identity bytes. */
export type Coding = 'identity' | 'gzip' | 'br';

/**
 * Compression levels. Measured on the JSON view of 2,000 statements of 300 characters (1 MB): gzip 5 takes
 * ~19 ms (level 6: ~37 ms for 8 % less), brotli 5 ~22 ms (quality 11: ~2 s); the page (240 KB) a quarter of
 * that. Both run on libuv's threadpool, not the event loop, once per change and coding.
 */
export const gzipLevel = 5;
export const brotliQuality = 5;

/** What the read cache needs of the store: the O(1) stamp, the O(n) snapshot, and the snapshot after a known one. */
export interface SnapshotSource {
  readStamp(story: string): Promise<StoryStamp>;
  readSnapshot(story: string): Promise<StorySnapshot | null>;
  /** Reads only what changed since `previous` (new entries, metadata); equal to readSnapshot's answer. */
  readSnapshotAfter?(story: string, previous: StorySnapshot): Promise<StorySnapshot | null>;
}

export interface StoryCacheOptions {
  /** Bytes of views, bodies and compressed forms held over all stories. @default 134217728 (READ_CACHE_MAX_BYTES) */
  maxBytes: number;
  /** Distinct representations (page, view, paged views…) kept per story; the oldest built goes first. @default 32 */
  maxVariantsPerStory?: number;
}

/** One built body (a page or a view) and its compressed forms, each made once, on first demand. */
export interface Representation {
  readonly contentType: string;
  readonly body: Buffer;
}

interface StoredRepresentation extends Representation {
  coded: Partial<Record<'gzip' | 'br', Promise<Buffer>>>;
  bytes: number;
  evictable: boolean;
}

/** Memory a folded view takes per character of stored JSON (measured: ~1.1 for 2,000 statements of 300 characters; rounded up). */
const viewBytesPerChar = 1.5;

/** True when the content read at `have` includes everything a reader who saw `want` must get. */
export function stampCovers(have: StoryStamp, want: StoryStamp): boolean {
  if (have.version < want.version) return false;
  if (want.lastId === null) return true;
  return have.lastId !== null && compareUpdateIds(have.lastId, want.lastId) >= 0;
}

/** A stamp with nothing in it: no entries and no metadata write yet. The story may not exist. */
function isBlank(stamp: StoryStamp): boolean {
  return stamp.lastId === null && stamp.version === 0 && stamp.status === null;
}

/**
 * One story as read at one stamp, and everything built from it. Immutable content: a change of the story makes
 * a new CachedStory, never edits this one, so a request holding it always sends consistent bytes.
 */
export class CachedStory {
  readonly snapshot: StorySnapshot;
  readonly #maxVariants: number;
  readonly #onGrow: () => void;
  readonly #variants = new Map<string, StoredRepresentation>();
  readonly #derived = new Map<string, unknown>();
  #bytes: number;

  constructor(snapshot: StorySnapshot, maxVariants: number, onGrow: () => void) {
    this.snapshot = snapshot;
    this.#maxVariants = maxVariants;
    this.#onGrow = onGrow;
    this.#bytes = snapshot.storedChars * viewBytesPerChar + 1024;
  }

  get stamp(): StoryStamp {
    return this.snapshot.stamp;
  }

  /** Bytes this story holds: its folded view (estimated) and every body built from it. */
  get bytes(): number {
    return this.#bytes;
  }

  /** A value computed once from the snapshot (e.g. the arranged feed), shared by the representations built from it. */
  derive<T>(name: string, compute: (snapshot: StorySnapshot) => T): T {
    if (this.#derived.has(name)) return this.#derived.get(name) as T;
    const value = compute(this.snapshot);
    this.#derived.set(name, value);
    return value;
  }

  /**
   * The representation named `variant` (e.g. "page", "view:20:"), built by `build` on first demand. Building is
   * synchronous, so concurrent requests for one change share one build. At most `maxVariantsPerStory` are kept;
   * the oldest `evictable` one goes first, so requests for ever new cursors (`before=`) cannot push out the
   * story's main page and view (which callers pass as not evictable).
   */
  representation(
    variant: string,
    build: (story: CachedStory) => { body: string | Buffer; contentType: string },
    evictable = true,
  ): Representation {
    const existing = this.#variants.get(variant);
    if (existing) return existing;
    const built = build(this);
    const body = typeof built.body === 'string' ? Buffer.from(built.body) : built.body;
    const stored: StoredRepresentation = { contentType: built.contentType, body, coded: {}, bytes: body.length + variant.length + 64, evictable };
    if (this.#variants.size >= this.#maxVariants) {
      for (const [name, candidate] of this.#variants) {
        if (!candidate.evictable) continue;
        this.#variants.delete(name);
        this.#bytes -= candidate.bytes;
        break;
      }
    }
    this.#variants.set(variant, stored);
    this.#grow(stored.bytes);
    return stored;
  }

  /** The bytes of `representation` in `coding`, compressed once (off the event loop) and kept beside the identity bytes. */
  encoded(representation: Representation, coding: Coding): Promise<Buffer> {
    if (coding === 'identity') return Promise.resolve(representation.body);
    const stored = representation as StoredRepresentation;
    const existing = stored.coded[coding];
    if (existing) return existing;
    const { body } = stored;
    const compressing =
      coding === 'gzip'
        ? gzipAsync(body, { level: gzipLevel })
        : brotliAsync(body, {
            params: {
              [zlibConstants.BROTLI_PARAM_QUALITY]: brotliQuality,
              [zlibConstants.BROTLI_PARAM_SIZE_HINT]: body.length,
              [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_TEXT,
            },
          });
    stored.coded[coding] = compressing;
    compressing.then(
      (compressed) => {
        // Counted only while the representation is still one of this story's (not displaced meanwhile).
        if ([...this.#variants.values()].includes(stored)) {
          stored.bytes += compressed.length;
          this.#grow(compressed.length);
        }
      },
      () => delete stored.coded[coding],
    );
    return compressing;
  }

  #grow(bytes: number): void {
    this.#bytes += bytes;
    this.#onGrow();
  }
}

/**
 * The per-node read cache: per story, the folded view at its newest stamp and the bodies built from it, in an
 * LRU over stories bounded by bytes.
 *
 * Contract:
 * - `stamp(story)` is one O(1) Redis read (HMGET of the meta hash). Callers read it on every request, so a node
 *   that has not yet heard of a change (another node took the write) still never serves content older than the
 *   stamp it read: a reader who starts after a write's 201 gets that write.
 * - `at(story, stamp)` answers a CachedStory whose stamp covers `stamp` (the same, or newer). When the cached
 *   one does not, the first caller reads the snapshot and every concurrent caller waits for that same read:
 *   one rebuild per change, however many requests arrive meanwhile. With an older snapshot at hand, only the
 *   entries after it are read and folded onto it (the rest of the stream is not read again).
 */
export class StoryCache {
  readonly #source: SnapshotSource;
  readonly #maxVariants: number;
  readonly #lru: ByteLru<string, CachedStory>;
  readonly #inFlight = new Map<string, Promise<CachedStory | null>>();
  /** Per story, the stamp read not yet sent, which requests arriving meanwhile join. */
  readonly #pendingStamps = new Map<string, Promise<StoryStamp>>();
  /** Snapshot reads so far, whole or after a previous one (for tests and metrics): one per change per node when all goes well. */
  snapshotReads = 0;

  constructor(source: SnapshotSource, options: StoryCacheOptions) {
    this.#source = source;
    this.#maxVariants = options.maxVariantsPerStory ?? 32;
    this.#lru = new ByteLru(options.maxBytes);
  }

  /** Bytes held over all stories. */
  get bytes(): number {
    return this.#lru.bytes;
  }

  /** Stories held. */
  get stories(): number {
    return this.#lru.size;
  }

  /**
   * The story's stamp: the one O(1) read of every request. Requests for one story that arrive in one event-loop
   * turn share one HMGET, sent at the end of that turn: it is issued after each of them started, so it sees every
   * write acknowledged before any of them, which is all the freshness rule asks. A read already sent is never
   * joined; a request arriving while one is out shares the next turn's, and when a read fails, only the requests
   * that shared it fail (each within the deadline of its own read).
   *
   * Several reads of one story may be out at once. Holding the next one back until the one out came back (tried)
   * made a request wait one and a half round trips on average: under 20 connections on one story it cost 7 % of
   * the rate and 0.5 ms of p99 (bench:read's 1.3 KiB view, the two builds alternating over five rounds).
   */
  stamp(story: string): Promise<StoryStamp> {
    const pending = this.#pendingStamps.get(story);
    if (pending) return pending;
    const read = new Promise<StoryStamp>((resolve, reject) => {
      setImmediate(() => {
        this.#pendingStamps.delete(story);
        this.#source.readStamp(story).then(resolve, reject);
      });
    });
    this.#pendingStamps.set(story, read);
    return read;
  }

  /** The story at `stamp` or newer; null when it does not exist. Throws what the store throws (redis_unavailable). */
  async at(story: string, stamp: StoryStamp): Promise<CachedStory | null> {
    if (isBlank(stamp)) {
      // Most likely no such story (or one written before stamps existed): read it without caching, so a story
      // deleted and a story never created both answer from Redis rather than from memory.
      const snapshot = await this.#readSnapshot(story);
      return snapshot ? new CachedStory(snapshot, this.#maxVariants, () => {}) : null;
    }
    for (;;) {
      const cached = this.#lru.get(story);
      if (cached && stampCovers(cached.stamp, stamp)) return cached;
      const flight = this.#inFlight.get(story);
      if (flight) {
        const built = await flight;
        if (built && stampCovers(built.stamp, stamp)) return built;
        // That read started before this request's stamp was read: go round, and join or start a later read.
        continue;
      }
      return this.#rebuild(story);
    }
  }

  #rebuild(story: string): Promise<CachedStory | null> {
    // The story as this node last read it, if it still holds it: then only the entries after it are read.
    const previous = this.#lru.get(story)?.snapshot;
    const flight = (async () => {
      const snapshot = await this.#readSnapshot(story, previous);
      if (!snapshot) {
        this.#lru.delete(story);
        return null;
      }
      const built: CachedStory = new CachedStory(snapshot, this.#maxVariants, () => this.#lru.resize(story, built, built.bytes));
      const current = this.#lru.get(story);
      if (!current || stampCovers(built.stamp, current.stamp)) this.#lru.set(story, built, built.bytes);
      return built;
    })();
    this.#inFlight.set(story, flight);
    const clear = (): void => {
      if (this.#inFlight.get(story) === flight) this.#inFlight.delete(story);
    };
    flight.then(clear, clear);
    return flight;
  }

  #readSnapshot(story: string, previous?: StorySnapshot): Promise<StorySnapshot | null> {
    this.snapshotReads += 1;
    if (previous && this.#source.readSnapshotAfter) return this.#source.readSnapshotAfter(story, previous);
    return this.#source.readSnapshot(story);
  }
}
