import type { Logger } from 'pino';
import { StoppressError } from '../protocol/errors.js';
import { compareUpdateIds } from '../protocol/update.js';
import type { ShardChannels } from '../store/shard-channels.js';
import type { StoredEntry, StoryStore } from '../store/story-store.js';

/** New entries of one story, in stream order. */
export interface StoryEntries {
  readonly story: string;
  readonly entries: readonly StoredEntry[];
}

/** Receives the new entries of the stories that had news in one turn, each entry exactly once per process. */
export type EntriesListener = (batches: readonly StoryEntries[]) => void;

export interface StoryFeedOptions {
  /**
   * A subscribe that Redis has not confirmed within this fails with `redis_unavailable`. Generous: a flood of
   * new stories queues thousands of SSUBSCRIBEs on one connection, and a connection that is down fails at once.
   * @default 10000
   */
  activationTimeoutMs?: number;
  /** Entries read per XRANGE when filling a gap. @default 500 */
  fillPageSize?: number;
}

/** One pub/sub message of the append script: `<previous id> <id> <update JSON>`. */
interface Announcement {
  readonly previousId: string;
  readonly id: string;
  readonly data: string;
}

/** A followed story: where delivery stands and what waits behind a gap fill. */
interface FeedState {
  readonly story: string;
  readonly channel: string;
  /** Id of the last entry handed to the listener ("0-0" for none); undefined while the activation is in flight. */
  cursor: string | undefined;
  /** Announcements that arrived during the activation or a gap fill, in arrival order. */
  waiting: Announcement[];
  /** A gap fill is running (announcements wait); `refill` asks for another pass when it ends. */
  filling: boolean;
  refill: boolean;
  /** Consecutive failed gap fills (readiness reports a story that keeps failing). */
  failures: number;
}

/** Announcements kept behind a running gap fill; past this the fill simply runs again (the stream has them all). */
const maxWaiting = 1_000;

/**
 * The fan-in: how new entries of the stories with local subscribers reach this process. The stream is the
 * truth and pub/sub the doorbell: the append script XADDs and SPUBLISHes in one atomic step, naming the entry
 * before the new one. Each story is one shard channel subscription, so Redis's work per publish does not grow
 * with the number of stories a node follows (one XREAD over every followed key did).
 *
 * Contract: for an active story, the listener gets every entry after the activation point, in stream order,
 * once, and only contiguous entries: an announcement whose previous id is not the story's cursor means
 * messages were lost (pub/sub is at most once), so the entries after the cursor are first read from the
 * stream (XRANGE) and delivered in order. The same fill runs after every resubscribe (a reconnect, a
 * failover), so a quiet story does not keep its gap until its next update.
 */
export class StoryFeed {
  readonly #channels: ShardChannels;
  readonly #store: StoryStore;
  readonly #listener: EntriesListener;
  readonly #log: Logger;
  readonly #activationTimeoutMs: number;
  readonly #fillPageSize: number;
  readonly #states = new Map<string, FeedState>();
  readonly #channelToStory = new Map<string, string>();
  readonly #activations = new Map<string, Promise<void>>();
  /** Gap fills run so far (each an XRANGE after a story's cursor): pub/sub lost messages, or a resubscribe. */
  gapFills = 0;
  /** Entries to hand to the listener at the end of this turn, so a burst read together goes out together. */
  #turn: Map<string, StoredEntry[]> | undefined;

  constructor(channels: ShardChannels, store: StoryStore, listener: EntriesListener, log: Logger, options: StoryFeedOptions = {}) {
    this.#channels = channels;
    this.#store = store;
    this.#listener = listener;
    this.#log = log;
    this.#activationTimeoutMs = options.activationTimeoutMs ?? 10_000;
    this.#fillPageSize = options.fillPageSize ?? 500;
    channels.listen({ message: this.channelOnMessage, resubscribed: this.channelsOnResubscribed });
  }

  /**
   * Starts following `story`. Resolves once the activation point is fixed: every entry appended after the
   * promise resolves reaches the listener. Concurrent calls share one activation. Throws `redis_unavailable`
   * when Redis does not confirm in time.
   */
  activate(story: string): Promise<void> {
    if (this.#states.get(story)?.cursor !== undefined) return Promise.resolve();
    let pending = this.#activations.get(story);
    if (!pending) {
      pending = this.#activate(story).finally(() => this.#activations.delete(story));
      this.#activations.set(story, pending);
    }
    return pending;
  }

  async #activate(story: string): Promise<void> {
    const channel = this.#store.channel(story);
    const state: FeedState = { story, channel, cursor: undefined, waiting: [], filling: false, refill: false, failures: 0 };
    this.#states.set(story, state);
    this.#channelToStory.set(channel, story);
    try {
      // Subscribe first, then read where the stream ends: an entry appended after that read is announced to
      // a subscription that already exists, and one appended in between waits and is dropped as not newer.
      await withTimeout(this.#channels.subscribe(channel), this.#activationTimeoutMs);
      const lastId = await this.#store.lastId(story);
      if (this.#states.get(story) !== state) return;
      state.cursor = lastId ?? '0-0';
    } catch (error) {
      if (this.#states.get(story) === state) this.deactivate(story);
      if (error instanceof StoppressError) throw error;
      throw new StoppressError('redis_unavailable', 'Redis did not confirm the subscription in time: subscribe again');
    }
    this.#drainWaiting(state);
  }

  /** Stops following `story` (its last local subscriber left). */
  deactivate(story: string): void {
    const state = this.#states.get(story);
    if (!state) return;
    this.#states.delete(story);
    this.#channelToStory.delete(state.channel);
    this.#channels.unsubscribe(state.channel);
  }

  /** Id of the last entry of `story` handed to the listener ("0-0" when none yet); undefined when not active. */
  cursor(story: string): string | undefined {
    return this.#states.get(story)?.cursor;
  }

  /** Stories followed. */
  get activeStories(): number {
    return this.#states.size;
  }

  /** A story whose gap fills keep failing, if any: readiness reports it. */
  failingStory(): { story: string; failures: number } | undefined {
    for (const state of this.#states.values()) if (state.failures >= 3) return { story: state.story, failures: state.failures };
    return undefined;
  }

  /** The channel subscriber's `message`: one announcement of the append script. */
  readonly channelOnMessage = (channel: string, payload: string): void => {
    const story = this.#channelToStory.get(channel);
    const state = story === undefined ? undefined : this.#states.get(story);
    if (!state) return;
    const first = payload.indexOf(' ');
    const second = payload.indexOf(' ', first + 1);
    if (first < 0 || second < 0) {
      this.#log.warn({ story, channel }, 'ignoring a malformed announcement');
      return;
    }
    const announcement = { previousId: payload.slice(0, first), id: payload.slice(first + 1, second), data: payload.slice(second + 1) };
    if (state.cursor === undefined || state.filling) {
      this.#wait(state, announcement);
      return;
    }
    this.#take(state, announcement);
  };

  /** The channel subscriber's `resubscribed`: messages may have been lost, so each story is checked against its stream. */
  readonly channelsOnResubscribed = (channels: readonly string[]): void => {
    for (const channel of channels) {
      const story = this.#channelToStory.get(channel);
      const state = story === undefined ? undefined : this.#states.get(story);
      if (state && state.cursor !== undefined) this.#fill(state);
    }
  };

  #wait(state: FeedState, announcement: Announcement): void {
    if (state.waiting.length < maxWaiting) state.waiting.push(announcement);
    else state.refill = true;
  }

  /** Delivers an announcement that follows the cursor; anything else is a duplicate (dropped) or a gap (filled). */
  #take(state: FeedState, announcement: Announcement): void {
    const cursor = state.cursor!;
    if (compareUpdateIds(announcement.id, cursor) <= 0) return;
    if (announcement.previousId !== cursor) {
      this.#log.debug({ story: state.story, cursor, previousId: announcement.previousId }, 'gap in announcements; reading the stream');
      this.#fill(state);
      return;
    }
    state.cursor = announcement.id;
    this.#deliver(state.story, [{ id: announcement.id, data: announcement.data }]);
  }

  #drainWaiting(state: FeedState): void {
    const waiting = state.waiting;
    state.waiting = [];
    for (const announcement of waiting) {
      if (state.filling || this.#states.get(state.story) !== state) {
        this.#wait(state, announcement);
        continue;
      }
      this.#take(state, announcement);
    }
  }

  /** Reads and delivers every entry after the cursor, then lets waiting announcements through. */
  #fill(state: FeedState): void {
    if (state.filling) {
      state.refill = true;
      return;
    }
    state.filling = true;
    this.gapFills += 1;
    void this.#runFill(state);
  }

  async #runFill(state: FeedState): Promise<void> {
    let delay = 100;
    for (;;) {
      state.refill = false;
      try {
        for (;;) {
          const entries = await this.#store.readEntries(state.story, state.cursor, this.#fillPageSize);
          if (this.#states.get(state.story) !== state) return;
          const fresh = entries.filter((entry) => compareUpdateIds(entry.id, state.cursor!) > 0);
          if (fresh.length > 0) {
            state.cursor = fresh[fresh.length - 1]!.id;
            this.#deliver(state.story, fresh);
          }
          if (entries.length < this.#fillPageSize) break;
        }
        state.failures = 0;
      } catch (error) {
        if (this.#states.get(state.story) !== state) return;
        state.failures += 1;
        this.#log.warn({ story: state.story, failures: state.failures, err: String(error) }, 'gap fill failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        delay = Math.min(delay * 2, 2_000);
        continue;
      }
      if (!state.refill) break;
    }
    state.filling = false;
    this.#drainWaiting(state);
  }

  /** Queues entries for the end of this turn: announcements parsed from one socket read reach sockets together. */
  #deliver(story: string, entries: StoredEntry[]): void {
    if (!this.#turn) {
      this.#turn = new Map();
      queueMicrotask(this.#endTurn);
    }
    const queued = this.#turn.get(story);
    if (queued) queued.push(...entries);
    else this.#turn.set(story, entries);
  }

  readonly #endTurn = (): void => {
    const turn = this.#turn!;
    this.#turn = undefined;
    const batches: StoryEntries[] = [];
    for (const [story, entries] of turn) batches.push({ story, entries });
    try {
      this.#listener(batches);
    } catch (error) {
      this.#log.error({ err: error, stories: batches.map((b) => b.story) }, 'live listener failed');
    }
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoppressError('redis_unavailable', 'Redis did not confirm the subscription in time: subscribe again')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
