import { StoppressError } from '../protocol/errors.js';
import { storyChangePrefix } from '../protocol/update.js';
import type { ServiceMetrics } from '../metrics.js';
import type { StoredEntry } from '../store/story-store.js';
import type { StoryEntries } from './story-feed.js';
import { encodeTextFrame, updateFrameJson } from './frame.js';
import { sseUpdateEvent } from './sse-events.js';

/** One stream entry ready to send: its id and its complete WebSocket frame, built once per process. */
export interface LiveEntry {
  readonly id: string;
  /** Header and payload of the `update` text frame: the same bytes for every socket. */
  readonly frame: Buffer;
  /** The same entry as a Server-Sent Events `update` event: built on first demand, once per process, shared by every stream. */
  readonly sse: Buffer;
}

/** New entries of one story, as the stream reader got them in one read. Shared by every subscriber: never changed. */
export interface LiveBatch {
  /** In stream order. */
  readonly entries: readonly LiveEntry[];
  /** Every entry's frame back to back, so a socket takes the whole batch in one write. */
  readonly bytes: Buffer;
  /** Every entry's SSE event back to back (built on first demand, once). */
  readonly sse: Buffer;
}

/** A LiveEntry whose SSE form is made only if an SSE stream asks: sockets never pay for it. */
class HubEntry implements LiveEntry {
  readonly id: string;
  readonly frame: Buffer;
  readonly #story: string;
  readonly #data: string;
  #sse: Buffer | undefined;

  constructor(story: string, id: string, data: string) {
    this.id = id;
    this.frame = encodeTextFrame(updateFrameJson(story, id, data));
    this.#story = story;
    this.#data = data;
  }

  get sse(): Buffer {
    return (this.#sse ??= sseUpdateEvent(this.#story, this.id, this.#data));
  }
}

class HubBatch implements LiveBatch {
  readonly entries: readonly HubEntry[];
  readonly bytes: Buffer;
  #sse: Buffer | undefined;

  constructor(entries: readonly HubEntry[]) {
    this.entries = entries;
    this.bytes = entries.length === 1 ? entries[0]!.frame : Buffer.concat(entries.map((e) => e.frame));
  }

  get sse(): Buffer {
    return (this.#sse ??= this.entries.length === 1 ? this.entries[0]!.sse : Buffer.concat(this.entries.map((e) => e.sse)));
  }
}

/** A local subscriber of one story (one socket's subscription). */
export interface HubSubscriber {
  deliver(batch: LiveBatch): void;
  /** The story just became private (a story change says so): the subscriber checks it may still follow it. */
  storyTurnedPrivate?(): void;
}

/** A socket whose writes can be held back and flushed together (net.Socket cork/uncork). */
export interface Corkable {
  uncork(): void;
}

/**
 * While the hub hands out entries of several stories read together, a socket that gets more than one of them
 * corks itself on its first write and joins `corked`; the hub uncorks them all at the end, so each socket
 * takes the whole round in one write (a dashboard following many stories).
 */
export interface WriteScope {
  coalescing: boolean;
  readonly corked: Corkable[];
}

/** What the hub needs from the fan-in (StoryFeed). */
export interface StorySource {
  activate(story: string): Promise<void>;
  deactivate(story: string): void;
  /** Id of the last entry of an active story handed to the hub ("0-0" when none yet); undefined when inactive. */
  cursor(story: string): string | undefined;
}

/**
 * Story → local subscribers. Each new entry is serialised and framed once, and the same bytes go to every
 * subscriber of the story: no per-subscriber JSON, framing or Redis call. Entries read together are
 * coalesced, so a socket takes a burst in one write.
 */
export class Hub {
  readonly #subscribers = new Map<string, Set<HubSubscriber>>();
  readonly writeScope: WriteScope = { coalescing: false, corked: [] };
  readonly #maxActiveStories: number;
  readonly #metrics: ServiceMetrics | undefined;
  #source: StorySource | undefined;

  /**
   * @param maxActiveStories stories with local subscribers this node follows at most. @default 50000
   * @param metrics counts deliveries once per publish (never per socket).
   */
  constructor(maxActiveStories = 50_000, metrics?: ServiceMetrics) {
    this.#maxActiveStories = maxActiveStories;
    this.#metrics = metrics;
  }

  /** Connects the hub to its stream reader (they reference each other, so this is set after both exist). */
  attach(source: StorySource): void {
    this.#source = source;
  }

  /**
   * Registers `subscriber` for `story` and resolves once the stream reader follows the story: from then on
   * every new entry reaches the subscriber. Entries already in the stream are the subscription's backlog.
   */
  async add(story: string, subscriber: HubSubscriber): Promise<void> {
    let set = this.#subscribers.get(story);
    if (!set) {
      // Each followed story costs a channel subscription: a flood of subscriptions to stories nobody else
      // follows must not grow the node's (and Redis's) work without bound.
      if (this.#subscribers.size >= this.#maxActiveStories) {
        throw new StoppressError('node_story_limit', `this node already follows ${this.#maxActiveStories} stories: retry later`);
      }
      this.#subscribers.set(story, (set = new Set()));
    }
    set.add(subscriber);
    try {
      await this.#source!.activate(story);
    } catch (error) {
      this.remove(story, subscriber);
      throw error;
    }
    // Everyone may have left while the activation was in flight; their remove() found nothing to deactivate yet.
    if (!this.#subscribers.has(story)) this.#source!.deactivate(story);
  }

  /**
   * The last entry of `story` this process has delivered, or null when there is none. For a subscriber
   * registered with `add`, every later entry reaches it: "live from now" can start here without asking Redis.
   */
  lastDelivered(story: string): string | null {
    const cursor = this.#source!.cursor(story);
    return cursor === undefined || cursor === '0-0' ? null : cursor;
  }

  /** Unregisters; the reader stops following a story with no local subscriber left. */
  remove(story: string, subscriber: HubSubscriber): void {
    const set = this.#subscribers.get(story);
    if (!set?.delete(subscriber) || set.size > 0) return;
    this.#subscribers.delete(story);
    this.#source!.deactivate(story);
  }

  /**
   * The stream reader's listener: everything one XREAD returned. With several stories, sockets that get
   * entries of more than one are corked for the round (see WriteScope) and flushed once at its end.
   */
  readonly publishAll = (batches: readonly StoryEntries[]): void => {
    if (batches.length === 1) {
      this.publish(batches[0]!.story, batches[0]!.entries);
      return;
    }
    const scope = this.writeScope;
    scope.coalescing = true;
    try {
      for (const { story, entries } of batches) this.publish(story, entries);
    } finally {
      scope.coalescing = false;
      for (const socket of scope.corked) socket.uncork();
      scope.corked.length = 0;
    }
  };

  /** Frames each entry of one story once and hands the same bytes to every subscriber of the story. */
  publish(story: string, entries: readonly StoredEntry[]): void {
    const set = this.#subscribers.get(story);
    if (!set || set.size === 0) return;
    const batch: LiveBatch = new HubBatch(entries.map(({ id, data }) => new HubEntry(story, id, data)));
    for (const subscriber of set) subscriber.deliver(batch);
    // Once per publish, after the writes: subscribers × entries, never a metrics call per socket.
    this.#metrics?.delivered(set.size, batch.entries, batch.bytes.length);
    // A story change that makes the story private: every follower without a token for it must stop getting it.
    if (entries.some(({ data }) => data.startsWith(storyChangePrefix) && data.includes('"visibility":"private"'))) {
      for (const subscriber of [...set]) subscriber.storyTurnedPrivate?.();
    }
  }

  /** Stories with local subscribers (for tests and metrics). */
  get activeStories(): number {
    return this.#subscribers.size;
  }

  /** Local subscriber count of a story (for tests and metrics). */
  subscriberCount(story: string): number {
    return this.#subscribers.get(story)?.size ?? 0;
  }
}
