import type { ClientFrame, SubscribedFrame } from '../protocol/live-messages.js';
import type { StoryChange, StoryView, StreamEntry, Update, ViewUpdate } from '../protocol/update.js';
import { applyCorrection, applyFlags } from '../protocol/corrections.js';
import { compareUpdateIds } from '../protocol/ids.js';
import { LiveClientError, type FollowHandlers, type LiveStatus } from './types.js';

/**
 * Where one story's subscription stands on the current socket:
 * - `idle`: nothing sent on this socket yet (no socket, or waiting to retry a refused subscribe);
 * - `subscribing`: `subscribe` sent, `subscribed` not yet received: any update now belongs to an earlier
 *   subscription of the story on this socket (the server sends `subscribed` first) and is ignored;
 * - `resetting`: `recovered: false`; the view is being reloaded;
 * - `live`: updates are delivered;
 * - `failed`: refused for good (invalid id, subscription limit): not resubscribed.
 */
export type FollowPhase = 'idle' | 'subscribing' | 'resetting' | 'live' | 'failed';

/**
 * The client side of one followed story: the delivery filter (ids strictly increase, so nothing is delivered
 * twice or out of order), the reset buffer, and the statements and reactions kept to fold corrections into.
 * It knows nothing of sockets; the connection drives it.
 */
export class StoryFollow {
  readonly story: string;
  readonly #handlers: FollowHandlers;
  readonly #reportError: (error: LiveClientError, follow: StoryFollow) => void;
  readonly #keptLimit: number;
  /** Top-level updates a reset reloads; undefined: the whole story. */
  readonly resetLimit: number | undefined;
  phase: FollowPhase = 'idle';
  /** Bumped whenever in-flight work (a reload, a retry) must be abandoned: new socket, new reset, unfollow. */
  generation = 0;
  /** Set by unfollow or close: nothing is delivered afterwards. */
  stopped = false;
  /** Failed subscribe or reset attempts in a row, for their backoff. */
  attempts = 0;
  #lastId: string | undefined;
  /** Live entries received while the view is being reloaded; undefined when no reload is in flight. */
  #resetBuffer: StreamEntry[] | undefined;
  readonly #kept = new Map<string, ViewUpdate>();
  #lastStatus: LiveStatus | undefined;

  constructor(
    story: string,
    since: string | undefined,
    handlers: FollowHandlers,
    options: {
      keptLimit: number;
      resetLimit?: number;
      /** The updates of the view the application rendered, corrections folded: the first targets of corrections. */
      seed?: readonly ViewUpdate[];
      reportError: (error: LiveClientError, follow: StoryFollow) => void;
    },
  ) {
    this.story = story;
    this.#lastId = since;
    this.#handlers = handlers;
    this.#keptLimit = options.keptLimit;
    this.resetLimit = options.resetLimit;
    this.#reportError = options.reportError;
    // Oldest first, as in a view, so the newest are the ones kept when the view is larger than the limit.
    for (const update of [...(options.seed ?? [])].sort((a, b) => compareUpdateIds(a.id, b.id))) this.#keep({ ...update });
  }

  /** The last id delivered, or the point live delivery started from: the `since` of the next subscribe. */
  get lastId(): string | undefined {
    return this.#lastId;
  }

  get hasErrorHandler(): boolean {
    return this.#handlers.error !== undefined;
  }

  subscribeFrame(): ClientFrame {
    return this.#lastId === undefined ? { type: 'subscribe', story: this.story } : { type: 'subscribe', story: this.story, since: this.#lastId };
  }

  /** Handles `subscribed`; returns true when the story must be reloaded (`recovered: false`). */
  subscribed(frame: SubscribedFrame): boolean {
    this.attempts = 0;
    if (frame.recovered === false) {
      this.phase = 'resetting';
      return true;
    }
    // Without `since` the subscription is live from the stream's last id: resuming from there leaves no gap.
    if (this.#lastId === undefined) this.#lastId = frame.lastId ?? '0-0';
    this.phase = 'live';
    return false;
  }

  /** A reload starts: from now on live updates are buffered until `finishReset`. Returns the reload's generation. */
  beginReset(): number {
    this.generation += 1;
    // Updates received before this reload starts are in the view it will read, so the buffer starts empty.
    this.#resetBuffer = [];
    return this.generation;
  }

  /** A reload failed: until the next one starts, live updates are dropped (that reload will contain them). */
  abandonReset(): void {
    this.#resetBuffer = undefined;
  }

  /**
   * Applies the reloaded view: `reset(view)`, then the buffered live updates above `view.lastId`, in order.
   * `subscribedLastId` is the stream's last id at subscribe time, used if the view has none.
   */
  finishReset(view: StoryView, subscribedLastId: string | null): void {
    const buffered = this.#resetBuffer ?? [];
    this.#resetBuffer = undefined;
    this.phase = 'live';
    this.#kept.clear();
    for (const update of view.updates.slice(-this.#keptLimit)) this.#kept.set(update.id, update);
    const viewLastId = view.lastId ?? subscribedLastId;
    if (viewLastId !== null && (this.#lastId === undefined || compareUpdateIds(viewLastId, this.#lastId) > 0)) this.#lastId = viewLastId;
    this.#call('reset', () => this.#handlers.reset?.(view));
    for (const update of buffered) this.receive(update);
  }

  /**
   * An `update` or `story` frame's entry of this story on the current socket. Both pass the same id filter, so a
   * story change's id counts for `since` like an update's.
   */
  receive(update: StreamEntry): void {
    if (this.stopped) return;
    if (this.phase === 'resetting') {
      this.#resetBuffer?.push(update);
      return;
    }
    if (this.phase !== 'live') return;
    if (this.#lastId !== undefined && compareUpdateIds(update.id, this.#lastId) <= 0) return;
    this.#lastId = update.id;
    if (update.kind === 'story') {
      this.#applyFlags(update);
      this.#call('story', () => this.#handlers.story?.(update));
      return;
    }
    if (update.kind === 'correction') {
      const target = this.#fold(update);
      if (this.#handlers.correction) this.#call('correction', () => this.#handlers.correction!(update, target));
      else this.#call('update', () => this.#handlers.update?.(update));
      return;
    }
    this.#keep({ ...update });
    this.#call('update', () => this.#handlers.update?.(update));
  }

  /** Tells the application the connection's status, once per change. */
  status(status: LiveStatus): void {
    if (this.stopped || status === this.#lastStatus) return;
    this.#lastStatus = status;
    this.#call('status', () => this.#handlers.status?.(status));
  }

  error(error: LiveClientError): void {
    if (this.stopped) return;
    const handler = this.#handlers.error;
    if (!handler) {
      this.#reportError(error, this);
      return;
    }
    try {
      handler(error);
    } catch (thrown) {
      this.#reportError(new LiveClientError('handler_failed', `the error handler of "${this.story}" threw`, { story: this.story, cause: thrown }), this);
    }
  }

  /** Stops every delivery and abandons in-flight work. */
  stop(): void {
    this.stopped = true;
    this.generation += 1;
    this.#resetBuffer = undefined;
  }

  /** Applies a correction to its kept target (the same rule as the story view); returns the folded target. */
  #fold(correction: Update): ViewUpdate | undefined {
    const previous = correction.corrects === undefined ? undefined : this.#kept.get(correction.corrects);
    if (!previous) return undefined;
    const target = applyCorrection(previous, correction);
    this.#kept.set(target.id, target);
    return target;
  }

  /** Keeps the kept target's `key` in step with a flags change, so a later correction's target is current. */
  #applyFlags(change: StoryChange): void {
    const id = change.flags?.update;
    const kept = id === undefined ? undefined : this.#kept.get(id);
    if (kept) this.#kept.set(kept.id, applyFlags(kept, change));
  }

  #keep(update: ViewUpdate): void {
    this.#kept.set(update.id, update);
    if (this.#kept.size > this.#keptLimit) this.#kept.delete(this.#kept.keys().next().value!);
  }

  #call(handler: string, run: () => void): void {
    try {
      run();
    } catch (thrown) {
      this.error(new LiveClientError('handler_failed', `the ${handler} handler of "${this.story}" threw`, { story: this.story, cause: thrown }));
    }
  }
}
