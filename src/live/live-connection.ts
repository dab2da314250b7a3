import type { Logger } from 'pino';
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { closeCodes, StoppressError, type ErrorCode } from '../protocol/errors.js';
import { storyIdPattern } from '../protocol/ids.js';
import { ClientFrame, type ErrorFrame } from '../protocol/live-messages.js';
import type { Corkable } from './hub.js';
import { StorySubscription, type SubscriptionContext, type SubscriptionSink } from './subscription.js';

/** What every connection of a gateway shares (one object, so that a connection stays small). */
export interface ConnectionContext extends SubscriptionContext {
  readonly log: Logger;
  /** Stories one socket may follow at once. */
  readonly maxSubscriptions: number;
  /** Unsent bytes a socket may hold before it is closed with 1013. */
  readonly maxBufferedBytes: number;
  /** Bad frames tolerated per window before the socket is closed with 1008. */
  readonly maxBadFrames: number;
  readonly badFrameWindowMs: number;
}

const textFrame = { binary: false } as const;
/** WebSocket.OPEN, as a constant: `ws.OPEN` is a prototype getter. */
const openState = 1;
const connectionOf = Symbol('stoppress.connection');
type TaggedSocket = WebSocket & { [connectionOf]: LiveConnection };

const connectionFor = (ws: WebSocket): LiveConnection => (ws as TaggedSocket)[connectionOf];

// Listeners shared by every socket (ws calls them with the socket as `this`): no closures per connection.
function socketOnMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  connectionFor(this).handleFrame(data, isBinary);
}
function socketOnPong(this: WebSocket): void {
  connectionFor(this).unansweredPings = 0;
}
function socketOnClose(this: WebSocket): void {
  connectionFor(this).stopSubscriptions();
}
function socketOnError(this: WebSocket, error: Error): void {
  connectionFor(this).context.log.debug({ err: error }, 'socket error');
}

/**
 * One client socket: parses its frames, holds its subscriptions, enforces its limits (subscriptions,
 * bad frames, slow-consumer bound) and tracks its heartbeat.
 */
export class LiveConnection implements SubscriptionSink, Corkable {
  readonly context: ConnectionContext;
  readonly #ws: WebSocket;
  readonly #socket: Socket;
  readonly #subscriptions = new Map<string, StorySubscription>();
  /** Times of recent bad frames; allocated on the first one (most sockets never send any). */
  #badFrameTimes: number[] | undefined;
  /** Corked for the current multi-story round of the hub. */
  #corked = false;
  /** Pings sent since the last pong; the heartbeat terminates the socket at 2. */
  unansweredPings = 0;

  /** @param socket the TCP socket under `ws` (see rawSocketOf), written to directly on the live path. */
  constructor(ws: WebSocket, socket: Socket, context: ConnectionContext) {
    this.#ws = ws;
    this.#socket = socket;
    this.context = context;
    (ws as TaggedSocket)[connectionOf] = this;
    ws.on('message', socketOnMessage);
    ws.on('pong', socketOnPong);
    ws.on('close', socketOnClose);
    ws.on('error', socketOnError);
  }

  get open(): boolean {
    return this.#ws.readyState === openState;
  }

  get subscriptionCount(): number {
    return this.#subscriptions.size;
  }

  sendLive(frames: Buffer): void {
    if (this.#ws.readyState !== openState) return;
    const socket = this.#socket;
    // With permessage-deflate off, ws's sender holds nothing back: the socket's buffer is all that is unsent
    // (what ws.bufferedAmount would add up, without touching the sender on this hot path).
    if (socket.writableLength > this.context.maxBufferedBytes) {
      this.closeSlow(`over ${this.context.maxBufferedBytes} bytes unsent`);
      return;
    }
    const scope = this.context.hub.writeScope;
    if (scope.coalescing && !this.#corked) {
      this.#corked = true;
      socket.cork();
      scope.corked.push(this);
    }
    // One write of bytes framed once for all sockets (see frame.ts); ws.send would frame per socket.
    socket.write(frames);
  }

  /** Flushes what was written while corked for a multi-story round (see Hub.writeScope), in one write. */
  uncork(): void {
    this.#corked = false;
    this.#socket.uncork();
  }

  sendAndDrain(frame: string | Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (!this.open) return resolve();
      this.#ws.send(frame, textFrame, () => resolve());
    });
  }

  closeSlow(reason: string): void {
    if (!this.open) return;
    this.context.log.info({ reason }, 'closing slow consumer');
    this.close(closeCodes.tryAgainLater, 'slow consumer: reconnect and resume with since');
  }

  /** Sends a ping, or terminates a peer that left two pings unanswered. */
  heartbeat(): void {
    if (this.unansweredPings >= 2) {
      this.#ws.terminate();
      return;
    }
    this.unansweredPings += 1;
    this.#ws.ping();
  }

  /**
   * Stops the subscriptions and starts the closing handshake. A peer that does not read (a slow consumer) cannot take the close frame, so
   * the socket is destroyed after a short grace period instead of holding its buffer for ws's 30 s default.
   */
  close(code: number, reason: string): void {
    this.stopSubscriptions();
    this.#ws.close(code, reason);
    setTimeout(() => this.#ws.terminate(), 5_000).unref();
  }

  /** Parses and runs one client frame; bad frames are answered with an error frame (and counted). */
  handleFrame(data: RawData, isBinary: boolean): void {
    let frame: ClientFrame;
    let raw: unknown;
    try {
      if (isBinary) throw new StoppressError('bad_frame', 'send text frames with JSON');
      raw = JSON.parse(data.toString());
      const parsed = ClientFrame.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const path = issue?.path.join('.');
        const code: ErrorCode = path === 'story' ? 'invalid_story_id' : path === 'since' ? 'invalid_update_id' : 'bad_frame';
        throw new StoppressError(code, `${path ? `${path}: ` : ''}${issue?.message ?? 'invalid frame'}`);
      }
      frame = parsed.data;
    } catch (error) {
      const refused = error instanceof StoppressError ? error : new StoppressError('bad_frame', 'the frame is not JSON');
      this.#refuse(refused.code, refused.message, storyNamedBy(raw));
      return;
    }
    if (frame.type === 'subscribe') this.#subscribe(frame.story, frame.since);
    else this.#unsubscribe(frame.story);
  }

  #subscribe(story: string, since: string | undefined): void {
    const previous = this.#subscriptions.get(story);
    if (!previous && this.#subscriptions.size >= this.context.maxSubscriptions) {
      this.#sendError({ type: 'error', code: 'subscription_limit', message: `a socket follows at most ${this.context.maxSubscriptions} stories`, story });
      return;
    }
    // A repeated subscribe restarts the story's subscription from the new `since`.
    previous?.stop();
    const subscription = new StorySubscription(story, this, this.context);
    this.#subscriptions.set(story, subscription);
    subscription.start(since).catch((error: unknown) => {
      subscription.stop();
      if (this.#subscriptions.get(story) === subscription) this.#subscriptions.delete(story);
      const code: ErrorCode = error instanceof StoppressError ? error.code : 'internal';
      if (code === 'internal') this.context.log.error({ err: error, story }, 'subscribe failed');
      this.#sendError({ type: 'error', code, message: error instanceof StoppressError ? error.message : 'subscribe failed', story });
    });
  }

  #unsubscribe(story: string): void {
    const subscription = this.#subscriptions.get(story);
    if (!subscription) {
      this.#sendError({ type: 'error', code: 'not_subscribed', message: `this socket does not follow "${story}"`, story });
      return;
    }
    subscription.stop();
    this.#subscriptions.delete(story);
    this.#ws.send(JSON.stringify({ type: 'unsubscribed', story }));
  }

  #refuse(code: ErrorCode, message: string, story: string | undefined): void {
    const now = Date.now();
    const recent = (this.#badFrameTimes ?? []).filter((t) => now - t < this.context.badFrameWindowMs);
    recent.push(now);
    this.#badFrameTimes = recent;
    if (recent.length >= this.context.maxBadFrames) {
      this.close(closeCodes.policyViolation, 'too many bad frames');
      return;
    }
    // An error about one story (a bad `since`, say) names it, so a client can tell which subscription failed.
    this.#sendError({ type: 'error', code, message, ...(story === undefined ? {} : { story }) });
  }

  #sendError(frame: ErrorFrame): void {
    if (this.open) this.#ws.send(JSON.stringify(frame));
  }

  /** Nothing is delivered to a closing socket: its subscriptions leave the hub at once. */
  stopSubscriptions(): void {
    for (const subscription of this.#subscriptions.values()) subscription.stop();
    this.#subscriptions.clear();
  }
}

/** The story a refused frame names, when it names a valid one. */
function storyNamedBy(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const story = (raw as { story?: unknown }).story;
  return typeof story === 'string' && storyIdPattern.test(story) ? story : undefined;
}
