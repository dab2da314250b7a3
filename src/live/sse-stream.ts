import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { SubscribedFrame } from '../protocol/live-messages.js';
import type { Beating } from './heartbeat.js';
import { backlogMustWait, socketDrained } from './socket-drained.js';
import { StorySubscription, type SubscriptionContext, type SubscriptionSink } from './subscription.js';
import { sseEndEvent, sseHeartbeat, sseResetEvent, sseSubscribed } from './sse-events.js';

/** What every SSE stream of a process shares. */
export interface SseContext extends SubscriptionContext {
  /** The same bound as a socket's: everything a stream has pending; past it the stream is closed (the client resumes with Last-Event-ID). */
  readonly maxBufferedBytes: number;
  /** How long a paced backlog waits for a full stream to drain before closing it. */
  readonly drainTimeoutMs: number;
  readonly onSlow: (reason: string) => void;
}

/**
 * One `GET /v1/stories/:story/events` response: a SubscriptionSink that writes Server-Sent Events. It follows its
 * story through a StorySubscription like a socket does (same hub, same handoff, same bounds); only the encoding
 * differs. Closing it as a slow consumer ends the response: EventSource reconnects with Last-Event-ID and
 * resumes exactly.
 */
export class SseStream implements SubscriptionSink, Beating {
  readonly encoding = 'sse' as const;
  readonly #response: ServerResponse;
  readonly #socket: Socket;
  readonly #context: SseContext;
  readonly #subscription: StorySubscription;
  #heldBytes = 0;
  #expiryTimer: NodeJS.Timeout | undefined;
  #ended = false;
  readonly closed: Promise<void>;

  constructor(story: string, response: ServerResponse, socket: Socket, context: SseContext) {
    this.#response = response;
    this.#socket = socket;
    this.#context = context;
    this.#subscription = new StorySubscription(story, this, context);
    this.closed = new Promise((resolve) => response.once('close', () => {
      this.#ended = true;
      clearTimeout(this.#expiryTimer);
      this.#subscription.stop();
      resolve();
    }));
  }

  get open(): boolean {
    return !this.#ended && !this.#response.destroyed && this.#response.writable;
  }

  /** Starts the handoff (`since` as for a socket: undefined is live from now, "0-0" the whole history). */
  start(since: string | undefined): Promise<void> {
    return this.#subscription.start(since);
  }

  /** Ends the stream at `expiresAtMs` with an `end` event `token_expired` (the token that opened it covers nothing after). */
  /** The story became private: a stream opened without a token for it ends (`token_required`); EventSource reconnects, with one if it has it. */
  storyTurnedPrivate(): void {
    if (this.#expiryTimer === undefined) this.end('token_required', 'the story became private: reconnect with a subscriber token that covers it');
  }

  expireAt(expiresAtMs: number): void {
    const delay = Math.min(Math.max(0, expiresAtMs - Date.now()), 2 ** 31 - 1);
    this.#expiryTimer = setTimeout(() => this.end('token_expired', 'the subscriber token has expired: reconnect with a new one'), delay);
    this.#expiryTimer.unref();
  }

  /** Ends the stream, first telling the client why. */
  end(code: string, message: string): void {
    if (!this.open) return;
    this.#response.end(sseEndEvent(code, message));
    this.#subscription.stop();
  }

  sendLive(events: Buffer): void {
    if (!this.open) return;
    const unsent = this.#socket.writableLength;
    if (unsent > 0 && unsent + this.#heldBytes + events.length > this.#context.maxBufferedBytes) {
      this.closeSlow(`over ${this.#context.maxBufferedBytes} bytes pending`);
      return;
    }
    this.#response.write(events);
  }

  sendControl(text: string): void {
    if (this.open) this.#response.write(text);
  }

  /**
   * `recovered: false` becomes a `reset` event. "Live from now" (no resume id) is marked with a `subscribed`
   * comment and, when the node knows the story's position, an id-only block: EventSource takes the id as its
   * last event id without dispatching anything, so a reconnect before the first update resumes from there.
   */
  sendSubscribed(frame: SubscribedFrame): void {
    if (frame.recovered === false) this.sendControl(sseResetEvent(frame.story, frame.lastId));
    else if (frame.recovered === undefined) this.sendControl(sseSubscribed(frame.lastId));
    else this.sendControl(sseSubscribed(null));
  }

  async sendBacklog(frame: readonly Buffer[]): Promise<boolean> {
    const { maxBufferedBytes } = this.#context;
    const length = frame.reduce((sum, part) => sum + part.length, 0);
    const socket = this.#socket;
    if (backlogMustWait(socket, length, maxBufferedBytes) && !(await this.#drained())) return false;
    if (!this.open) return false;
    if (socket.writableLength + this.#heldBytes + length > maxBufferedBytes) {
      this.closeSlow(`over ${maxBufferedBytes} bytes pending`);
      return false;
    }
    for (const part of frame) this.#response.write(part);
    return true;
  }

  /** One subscription per stream: nothing to take turns with. */
  backlogTurn<T>(task: () => Promise<T>): Promise<T> {
    return task();
  }

  hold(bytes: number): boolean {
    this.#heldBytes += bytes;
    if (this.#socket.writableLength + this.#heldBytes <= this.#context.maxBufferedBytes) return true;
    this.closeSlow(`over ${this.#context.maxBufferedBytes} bytes pending while the backlog was sent`);
    return false;
  }

  release(bytes: number): void {
    this.#heldBytes -= bytes;
  }

  heartbeat(): void {
    if (this.open) this.#response.write(sseHeartbeat);
  }

  /** A slow consumer cannot take a last event: the connection is cut, and EventSource resumes with Last-Event-ID. */
  closeSlow(reason: string): void {
    if (!this.open) return;
    this.#context.onSlow(reason);
    this.#ended = true;
    this.#subscription.stop();
    this.#response.destroy();
  }

  async #drained(): Promise<boolean> {
    const socket = this.#socket;
    const drained = await socketDrained(socket, this.#response, this.#context.drainTimeoutMs, () =>
      this.closeSlow(`did not drain ${socket.writableLength} bytes within ${this.#context.drainTimeoutMs} ms`),
    );
    return drained && this.open;
  }
}
