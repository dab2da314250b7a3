import type { SubscribedFrame } from '../protocol/live-messages.js';
import { compareUpdateIds } from '../protocol/update.js';
import type { StoryStore } from '../store/story-store.js';
import { textFrameParts, updateFrameBytes } from './frame.js';
import { sseUpdateEventBytes } from './sse-events.js';
import type { Hub, HubSubscriber, LiveBatch, LiveEntry } from './hub.js';

/**
 * The socket side a subscription writes to. Everything a socket has pending (unsent bytes, live entries held
 * during a backlog, across all its subscriptions) counts against one bound; past it the socket is closed as a
 * slow consumer (1013).
 */
export interface SubscriptionSink {
  /** The story followed became private: end this subscription unless the sink holds a token that covers it. */
  storyTurnedPrivate?(story: string): void;
  /** Writes pre-built frames (shared bytes) subject to the socket's slow-consumer bound. */
  sendLive(frames: Buffer): void;
  /** Sends a small control frame (`subscribed`) without waiting for the socket. */
  sendControl(json: string): void;
  /**
   * What the sink writes: WebSocket frames (absent, the default) or Server-Sent Events (`"sse"`: the entries'
   * `sse` bytes, built once per entry per process and shared, see LiveEntry).
   */
  readonly encoding?: 'sse';
  /** Takes the `subscribed` frame itself when present (SSE turns `recovered: false` into a `reset` event); otherwise it goes to sendControl as JSON. */
  sendSubscribed?(frame: SubscribedFrame): void;
  /**
   * Writes one backlog frame, first waiting while the socket's unsent output is at its high-water mark.
   * Resolves false when the socket closed (or was closed as slow because it did not drain in time).
   */
  sendBacklog(frame: readonly Buffer[]): Promise<boolean>;
  /** Runs `task` when no other subscription of this socket is sending its backlog: one backlog at a time per socket. */
  backlogTurn<T>(task: () => Promise<T>): Promise<T>;
  /** Counts `bytes` of live entries held by a syncing subscription; false (and the socket closed) past the bound. */
  hold(bytes: number): boolean;
  /** Gives back held bytes (the subscription flushed or dropped them). */
  release(bytes: number): void;
  readonly open: boolean;
}

/** What every subscription of a process shares (one object, so that a subscription stays small). */
export interface SubscriptionContext {
  readonly hub: Hub;
  readonly store: StoryStore;
  /** Backlog entries read from Redis per page (a socket reads one page at a time). */
  readonly backlogPageSize: number;
}

const noEntries: readonly LiveEntry[] = Object.freeze([]);

/**
 * One socket's subscription to one story: the backlog-then-live handoff.
 *
 * 1. Register with the hub first; from then on live entries are held (and counted against the socket's bound).
 * 2. Read the backlog after `since` from the stream, page by page, paced by the socket, and send it.
 * 3. Flush the held entries, skipping every id at or below the last one sent; then go live, still skipping such
 *    ids until the first newer one arrives (the fan-in may be behind the backlog read).
 *
 * Because registration precedes every backlog read and the hub delivers every entry appended after
 * registration, no entry falls between backlog and live, and the id filter removes the overlap: no gap, no
 * duplicate, stream order. A `since` older than the oldest retained entry is reported as `recovered: false`
 * (never skipped silently); the subscription then goes live from the current last entry.
 */
export class StorySubscription implements HubSubscriber {
  readonly story: string;
  readonly #sink: SubscriptionSink;
  readonly #context: SubscriptionContext;
  #state: 'syncing' | 'live' | 'stopped' = 'syncing';
  /** Live entries that arrived during the backlog; empty (shared) once live. */
  #pending: LiveEntry[] | readonly LiveEntry[] = noEntries;
  #pendingBytes = 0;
  /** While live: ids at or below this were sent already (null once an entry above it was delivered). */
  #floor: string | null = null;

  /** The sink takes SSE events rather than WebSocket frames. */
  readonly #sse: boolean;

  constructor(story: string, sink: SubscriptionSink, context: SubscriptionContext) {
    this.story = story;
    this.#sink = sink;
    this.#context = context;
    this.#sse = sink.encoding === 'sse';
  }

  storyTurnedPrivate(): void {
    if (this.#state !== 'stopped') this.#sink.storyTurnedPrivate?.(this.story);
  }

  deliver(batch: LiveBatch): void {
    if (this.#state === 'live') {
      if (this.#floor === null) this.#sink.sendLive(this.#sse ? batch.sse : batch.bytes);
      else this.#sendAboveFloor(batch.entries);
      return;
    }
    if (this.#state !== 'syncing') return;
    const pending = this.#pending === noEntries ? (this.#pending = []) : (this.#pending as LiveEntry[]);
    let bytes = 0;
    for (const entry of batch.entries) {
      pending.push(entry);
      bytes += this.#sse ? entry.sse.length : entry.frame.length;
    }
    this.#pendingBytes += bytes;
    this.#sink.hold(bytes);
  }

  /**
   * Runs the handoff: `subscribed`, then the backlog, then live. Throws StoppressError when Redis fails (or the
   * node follows too many stories); the caller reports it and drops the subscription.
   */
  async start(since: string | undefined): Promise<void> {
    const { hub, store } = this.#context;
    await hub.add(this.story, this);
    if (this.#state === 'stopped') return;

    let lastSent: string | null;
    if (since === undefined) {
      // Live from now: everything after what this process has delivered so far, since the hub hands every
      // later entry to this (already registered) subscription. No Redis call per subscriber.
      lastSent = hub.lastDelivered(this.story);
      if (!this.#sendSubscribed({ type: 'subscribed', story: this.story, lastId: lastSent })) return;
    } else {
      const backlogEnd = await this.#sink.backlogTurn(async () => {
        if (this.#state !== 'syncing') return undefined;
        const bounds = await store.streamBounds(this.story);
        // "0-0" asks for whatever is retained. Otherwise a `since` older than the oldest retained entry of a
        // trimmed stream may have lost entries after it: say so rather than skip them silently.
        const recovered = since === '0-0' || !bounds.trimmed || bounds.firstId === null || compareUpdateIds(since, bounds.firstId) >= 0;
        if (!this.#sendSubscribed({ type: 'subscribed', story: this.story, lastId: bounds.lastId, recovered })) return undefined;
        return recovered ? this.#sendBacklog(since) : bounds.lastId;
      });
      if (backlogEnd === undefined) return;
      lastSent = backlogEnd;
    }

    if (this.#state !== 'syncing') return;
    const pending = this.#pending;
    this.#releasePending();
    this.#state = 'live';
    this.#floor = lastSent;
    if (pending.length > 0) this.#sendAboveFloor(pending);
  }

  /**
   * The fan-in may lag behind the backlog read: entries at or below the last id sent can still arrive after the
   * switch to live. They are dropped until the first newer one; from there on ids only grow.
   */
  #sendAboveFloor(entries: readonly LiveEntry[]): void {
    const floor = this.#floor;
    const fresh = floor === null ? entries : entries.filter((entry) => compareUpdateIds(entry.id, floor) > 0);
    if (fresh.length === 0) return;
    this.#floor = null;
    const part = this.#sse ? (e: LiveEntry) => e.sse : (e: LiveEntry) => e.frame;
    this.#sink.sendLive(fresh.length === 1 ? part(fresh[0]!) : Buffer.concat(fresh.map(part)));
  }

  /** Stops delivery and unregisters from the hub. Idempotent. */
  stop(): void {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#releasePending();
    this.#context.hub.remove(this.story, this);
  }

  #releasePending(): void {
    this.#pending = noEntries;
    if (this.#pendingBytes > 0) this.#sink.release(this.#pendingBytes);
    this.#pendingBytes = 0;
  }

  /**
   * Sends the entries after `since`, one page at a time, each frame paced by the socket. Returns the last id
   * sent (or `since`); undefined if the subscription stopped or the socket closed.
   */
  async #sendBacklog(since: string): Promise<string | undefined> {
    const { store, backlogPageSize } = this.#context;
    let cursor = since;
    for (;;) {
      const page = await store.readEntryBytes(this.story, cursor, backlogPageSize);
      for (const { id, data } of page) {
        if (this.#state !== 'syncing') return undefined;
        const frame = this.#sse ? [sseUpdateEventBytes(this.story, id, data)] : textFrameParts(updateFrameBytes(this.story, id, data));
        if (!(await this.#sink.sendBacklog(frame))) return undefined;
        cursor = id;
      }
      if (this.#state !== 'syncing' || !this.#sink.open) return undefined;
      if (page.length < backlogPageSize) return cursor;
    }
  }

  #sendSubscribed(frame: SubscribedFrame): boolean {
    if (this.#state !== 'syncing' || !this.#sink.open) return false;
    if (this.#sink.sendSubscribed) this.#sink.sendSubscribed(frame);
    else this.#sink.sendControl(JSON.stringify(frame));
    return true;
  }
}
