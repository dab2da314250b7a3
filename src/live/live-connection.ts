import type { Logger } from 'pino';
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { closeCodes, StoppressError, type ErrorCode } from '../protocol/errors.js';
import { storyIdPattern } from '../protocol/ids.js';
import { ClientFrame, type ErrorFrame } from '../protocol/live-messages.js';
import type { ServiceMetrics } from '../metrics.js';
import { isPrivateAt } from '../access/story-access.js';
import { patternsCover } from '../access/story-patterns.js';
import type { SubscriberToken, TokenVerifier } from '../access/subscriber-token.js';
import type { Corkable } from './hub.js';
import { pingFrame } from './frame.js';
import { backlogMustWait, socketDrained } from './socket-drained.js';
import { StorySubscription, type SubscriptionContext, type SubscriptionSink } from './subscription.js';

/** What every connection of a gateway shares (one object, so that a connection stays small). */
export interface ConnectionContext extends SubscriptionContext {
  readonly log: Logger;
  /** Counts the rare events (slow-consumer closes, refused frames); never touched on the delivery path. */
  readonly metrics: ServiceMetrics | undefined;
  /** Stories one socket may follow at once. */
  readonly maxSubscriptions: number;
  /** Everything a socket may have pending (unsent bytes plus live entries held during backlogs) before it is closed with 1013. */
  readonly maxBufferedBytes: number;
  /** How long a backlog waits for a socket at its high-water mark to drain before closing it with 1013. */
  readonly drainTimeoutMs: number;
  /** Subscribe and unsubscribe frames a socket may send per second, on average (token bucket refill). */
  readonly subscribeRate: number;
  /** Subscribe and unsubscribe frames a socket may send at once (token bucket size). */
  readonly subscribeBurst: number;
  /** Bad frames tolerated per window before the socket is closed with 1008. */
  readonly maxBadFrames: number;
  readonly badFrameWindowMs: number;
  /** Verifies subscriber tokens; undefined when none is configured (private stories then answer token_invalid to any token). */
  readonly verifyToken: TokenVerifier | undefined;
}

const textFrame = { binary: false } as const;
const noop = (): void => undefined;
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
 * One client socket: parses its frames, holds its subscriptions, enforces its limits (subscriptions, subscribe
 * rate, bad frames, the one slow-consumer bound over everything it has pending) and tracks its heartbeat.
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
  /** Bytes of live entries held by subscriptions that are still sending their backlog. */
  #heldBytes = 0;
  /** The backlog being sent (one subscription at a time per socket); undefined when none. */
  #backlogChain: Promise<unknown> | undefined;
  /** Subscribe-rate token bucket: tokens left and when they were counted; undefined until the first subscribe. */
  #tokens: number | undefined;
  #tokensAt = 0;
  /** Frames run one after another (a subscribe waits for its access check). */
  #frameChain: Promise<void> = Promise.resolve();
  /** The token of the last accepted `auth` frame: it covers later subscribes. */
  #token: SubscriberToken | undefined;
  /** Private stories followed, and when the token that lets this socket follow each expires (ms). */
  #expiries: Map<string, number> | undefined;
  /** One timer per socket, at the earliest expiry (not one per subscription). */
  #expiryTimer: NodeJS.Timeout | undefined;
  /** Pings sent since the last pong; the heartbeat terminates the socket at 2. */
  unansweredPings = 0;
  /** The heartbeat asked for a ping that no write has carried yet (it goes with the next live write, or alone a tick later). */
  #pingDue = false;

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
    // (what ws.bufferedAmount would add up, without touching the sender on this hot path). The check comes
    // before the write, so the close frame queues behind at most the bound; a socket with nothing unsent takes
    // any batch.
    const unsent = socket.writableLength;
    if (unsent > 0 && unsent + this.#heldBytes + frames.length > this.context.maxBufferedBytes) {
      this.closeSlow(`over ${this.context.maxBufferedBytes} bytes pending`);
      return;
    }
    const scope = this.context.hub.writeScope;
    if (scope.coalescing && !this.#corked) {
      this.#corked = true;
      socket.cork();
      scope.corked.push(this);
    }
    // One write of bytes framed once for all sockets (see frame.ts); ws.send would frame per socket.
    if (!this.#pingDue) {
      socket.write(frames);
      return;
    }
    // A due ping rides on this write (corked: one system call for both) instead of costing one of its own. Corks
    // nest: inside the hub's multi-story round this uncork leaves the socket corked until the round's own.
    this.#pingDue = false;
    this.unansweredPings += 1;
    socket.cork();
    socket.write(frames);
    socket.write(pingFrame);
    socket.uncork();
  }

  sendControl(json: string): void {
    if (this.open) this.#ws.send(json, textFrame);
  }

  async sendBacklog(frame: readonly Buffer[]): Promise<boolean> {
    const { maxBufferedBytes } = this.context;
    const socket = this.#socket;
    const length = frame[0]!.length + (frame[1]?.length ?? 0);
    // A socket that takes nothing for drainTimeoutMs is closed (see #drained).
    if (backlogMustWait(socket, length, maxBufferedBytes) && !(await this.#drained())) return false;
    if (!this.open) return false;
    if (socket.writableLength + this.#heldBytes + length > maxBufferedBytes) {
      this.closeSlow(`over ${maxBufferedBytes} bytes pending`);
      return false;
    }
    for (const part of frame) socket.write(part);
    return true;
  }

  backlogTurn<T>(task: () => Promise<T>): Promise<T> {
    const previous = this.#backlogChain ?? Promise.resolve();
    const turn = previous.then(task, task);
    const chain = turn.then(noop, noop);
    this.#backlogChain = chain;
    void chain.then(() => {
      if (this.#backlogChain === chain) this.#backlogChain = undefined;
    });
    return turn;
  }

  hold(bytes: number): boolean {
    this.#heldBytes += bytes;
    if (this.#socket.writableLength + this.#heldBytes <= this.context.maxBufferedBytes) return true;
    this.closeSlow(`over ${this.context.maxBufferedBytes} bytes pending while a backlog was sent`);
    return false;
  }

  release(bytes: number): void {
    this.#heldBytes -= bytes;
  }

  /** Resolves true once the socket has written out its buffer, false if it closed or did not drain in time (then it is closed with 1013). */
  async #drained(): Promise<boolean> {
    const socket = this.#socket;
    const drained = await socketDrained(socket, this.#ws, this.context.drainTimeoutMs, () =>
      this.closeSlow(`did not drain ${socket.writableLength} bytes within ${this.context.drainTimeoutMs} ms`),
    );
    return drained && this.open;
  }

  /** Flushes what was written while corked for a multi-story round (see Hub.writeScope), in one write. */
  uncork(): void {
    this.#corked = false;
    this.#socket.uncork();
  }

  closeSlow(reason: string): void {
    if (!this.open) return;
    this.context.log.info({ reason }, 'closing slow consumer');
    this.context.metrics?.slowConsumerCloses.inc();
    this.close(closeCodes.tryAgainLater, 'slow consumer: reconnect and resume with since');
  }

  /** Terminates a peer that left two pings unanswered, or makes a ping due: the next live write carries it. */
  heartbeat(): void {
    if (this.unansweredPings >= 2) {
      this.#ws.terminate();
      return;
    }
    this.#pingDue = true;
  }

  /** Sends the due ping on its own when no live write carried it since heartbeat(). */
  flushHeartbeat(): void {
    if (!this.#pingDue) return;
    this.#pingDue = false;
    if (!this.open) return;
    this.unansweredPings += 1;
    this.#socket.write(pingFrame);
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
    if (!this.#takeToken()) {
      this.#refuse('rate_limited', `over ${this.context.subscribeRate} subscribe and unsubscribe frames a second: slow down`, 'story' in frame ? frame.story : undefined);
      return;
    }
    // The access check of a subscribe reads Redis: frames run in arrival order all the same.
    const run = frame.type === 'auth' ? () => this.#authenticate(frame.token) : frame.type === 'subscribe' ? () => this.#checkedSubscribe(frame.story, frame.since, frame.token) : () => this.#unsubscribe(frame.story);
    this.#frameChain = this.#frameChain.then(run, run);
  }

  /** The subscribe-rate token bucket: a reconnecting client may resubscribe a full burst at once, then `subscribeRate` a second. */
  #takeToken(): boolean {
    const { subscribeRate, subscribeBurst } = this.context;
    const now = Date.now();
    const tokens = Math.min(subscribeBurst, (this.#tokens ?? subscribeBurst) + ((now - this.#tokensAt) / 1000) * subscribeRate);
    this.#tokensAt = now;
    if (tokens < 1) {
      this.#tokens = tokens;
      return false;
    }
    this.#tokens = tokens - 1;
    return true;
  }

  async #verify(token: string): Promise<SubscriberToken> {
    const verify = this.context.verifyToken;
    if (!verify) throw new StoppressError('token_invalid', 'the subscriber token is invalid: this service is configured to accept no subscriber tokens');
    return verify(token);
  }

  /** `auth`: the token covers later subscribes and extends the private subscriptions it covers. A refused one leaves the previous token in place. */
  async #authenticate(raw: string): Promise<void> {
    let token: SubscriberToken;
    try {
      token = await this.#verify(raw);
    } catch (error) {
      const known = error instanceof StoppressError ? error : new StoppressError('token_invalid', 'the subscriber token is invalid');
      this.#sendError({ type: 'error', code: known.code, message: known.message });
      return;
    }
    this.#token = token;
    if (this.#expiries) {
      for (const [story, expiresAt] of this.#expiries) {
        if (patternsCover(token.stories, story) && token.expiresAtMs > expiresAt) this.#expiries.set(story, token.expiresAtMs);
      }
      this.#armExpiry();
    }
    this.sendControl(JSON.stringify({ type: 'authenticated', expiresAt: new Date(token.expiresAtMs).toISOString() }));
  }

  /**
   * Subscribe with the access check: a private story needs a token (the frame's, else the socket's `auth` one)
   * that covers it. Refusals are error frames naming the story (`token_required`, `token_invalid`,
   * `token_expired`, `forbidden`): a story's id and existence are not secret here, its content is.
   */
  async #checkedSubscribe(story: string, since: string | undefined, frameToken: string | undefined): Promise<void> {
    let expiresAt: number | undefined;
    try {
      const fields = await this.context.store.readStamp(story);
      const now = Date.now();
      if (isPrivateAt(fields, now)) {
        const token = frameToken === undefined ? this.#token : await this.#verify(frameToken);
        if (!token) throw new StoppressError('token_required', `story "${story}" is private: send an auth frame (or a token on the subscribe) that covers it`);
        if (token.expiresAtMs <= now) throw new StoppressError('token_expired', 'the subscriber token has expired: send a new auth frame');
        if (!patternsCover(token.stories, story)) throw new StoppressError('forbidden', `the subscriber token does not cover story "${story}"`);
        expiresAt = token.expiresAtMs;
      }
    } catch (error) {
      const known = error instanceof StoppressError ? error : undefined;
      if (!known) this.context.log.error({ err: error, story }, 'subscribe check failed');
      this.#sendError({ type: 'error', code: known?.code ?? 'internal', message: known?.message ?? 'subscribe failed', story });
      return;
    }
    if (!this.open) return;
    this.#subscribe(story, since);
    if (!this.#subscriptions.has(story)) return;
    if (expiresAt === undefined) this.#expiries?.delete(story);
    else (this.#expiries ??= new Map()).set(story, expiresAt);
    this.#armExpiry();
  }

  /**
   * A followed story became private (a story change): the subscription goes on only if this socket's token covers
   * it (then its expiry is tracked like any private subscription); otherwise it ends with `token_required`.
   */
  storyTurnedPrivate(story: string): void {
    if (!this.#subscriptions.has(story) || this.#expiries?.has(story)) return;
    const token = this.#token;
    if (token && token.expiresAtMs > Date.now() && patternsCover(token.stories, story)) {
      (this.#expiries ??= new Map()).set(story, token.expiresAtMs);
      this.#armExpiry();
      return;
    }
    this.#subscriptions.get(story)?.stop();
    this.#subscriptions.delete(story);
    this.#sendError({ type: 'error', code: 'token_required', message: `story "${story}" became private: send an auth frame that covers it and subscribe again with since`, story });
  }

  #armExpiry(): void {
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    if (!this.#expiries || this.#expiries.size === 0) return;
    const earliest = Math.min(...this.#expiries.values());
    this.#expiryTimer = setTimeout(() => void this.#expire(), Math.min(Math.max(0, earliest - Date.now()), 2 ** 31 - 1));
    this.#expiryTimer.unref();
  }

  /** Ends the private subscriptions whose token expired unrefreshed, each with a `token_expired` error frame; stories public by now stay. */
  async #expire(): Promise<void> {
    const expiries = this.#expiries;
    if (!expiries) return;
    const now = Date.now();
    for (const [story, expiresAt] of [...expiries]) {
      if (expiresAt > now) continue;
      const fields = await this.context.store.readStamp(story).catch(() => ({ visibility: 'private' }));
      if (expiries.get(story) !== expiresAt) continue;
      expiries.delete(story);
      if (!isPrivateAt(fields, Date.now())) continue;
      this.#subscriptions.get(story)?.stop();
      this.#subscriptions.delete(story);
      this.#sendError({ type: 'error', code: 'token_expired', message: 'the subscriber token expired: send a new auth frame and subscribe again with since', story });
    }
    this.#armExpiry();
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
    this.#expiries?.delete(story);
    this.#ws.send(JSON.stringify({ type: 'unsubscribed', story }));
  }

  /** Answers a refused frame with an error frame; a socket that keeps sending refused frames is closed with 1008. */
  #refuse(code: ErrorCode, message: string, story: string | undefined): void {
    if (code === 'rate_limited') this.context.metrics?.rateLimited.inc();
    else this.context.metrics?.badFrames.inc();
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
    clearTimeout(this.#expiryTimer);
    this.#expiries = undefined;
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
