import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { updateJson, type StoredEntry } from '../store/story-store.js';
import type { StoredWebhook, WebhookStore } from '../store/webhook-store.js';
import type { WebhookPayload } from '../protocol/webhooks.js';
import type { ConcurrencyLimit } from './concurrency-limit.js';
import { postWebhook } from './post-webhook.js';
import { signDelivery } from './signing.js';

/** A local subscriber of a story's new entries: the hub's shape (src/live/hub.ts), so webhooks wake on the same sharded subscription as sockets. */
export interface WakeSubscriber {
  deliver(batch: unknown): void;
}

/** Where a worker registers to be woken by a story's new entries: the live hub. */
export interface WakeSource {
  add(story: string, subscriber: WakeSubscriber): Promise<void>;
  remove(story: string, subscriber: WakeSubscriber): void;
}

/** Delivery settings (the WEBHOOK_* configuration). */
export interface DeliveryOptions {
  /** Lease time to live; renewed every third of it while delivering. @default 15000 (WEBHOOK_LEASE_MS) */
  leaseMs: number;
  /** One attempt's time limit. @default 10000 (WEBHOOK_TIMEOUT_MS) */
  timeoutMs: number;
  /** First retry delay; doubled per attempt (with jitter), at most 10 minutes. @default 1000 (WEBHOOK_RETRY_BASE_MS) */
  retryBaseMs: number;
  /** How long deliveries may keep failing before the webhook is disabled. @default 86400000 (WEBHOOK_RETRY_MAX_MS) */
  retryMaxMs: number;
  /** Let webhooks reach loopback and private addresses. @default false (WEBHOOK_ALLOW_PRIVATE_NETWORKS) */
  allowPrivate: boolean;
  /** How long a caught-up worker keeps its lease and subscription waiting for new entries. @default 30000 */
  idleMs: number;
}

/** What every worker of a node shares. */
export interface DeliveryContext {
  store: WebhookStore;
  wake: WakeSource;
  limit: ConcurrencyLimit;
  log: Logger;
  nodeId: string;
  options: DeliveryOptions;
}

const batchSize = 50;
const maxRetryDelayMs = 10 * 60_000;

/**
 * Delivers one story's entries to one webhook, in order, from one node at a time: it runs only while it holds
 * the (webhook, story) lease in Redis, renews it while it works, and moves the cursor only after a 2xx (and only
 * while it still holds the lease). A failed attempt is retried with the same `webhook-id`, backing off
 * exponentially with jitter, until deliveries have failed for `retryMaxMs`: then the webhook is disabled.
 * While caught up it waits on the hub for the story's next entry, for `idleMs`, then lets the lease go.
 */
export class DeliveryWorker implements WakeSubscriber {
  readonly #context: DeliveryContext;
  readonly #webhookId: string;
  readonly #story: string;
  readonly #token: string;
  #dirty = true;
  #stopped = false;
  #lost = false;
  #wakeUp: (() => void) | undefined;
  #renewTimer: NodeJS.Timeout | undefined;

  constructor(context: DeliveryContext, webhookId: string, story: string) {
    this.#context = context;
    this.#webhookId = webhookId;
    this.#story = story;
    this.#token = `${context.nodeId}:${randomBytes(6).toString('hex')}`;
  }

  /** The hub's callback: the story has new entries. */
  deliver(): void {
    this.wake();
  }

  /** Something new may be there (an append on this node, a sweep): read again. */
  wake(): void {
    this.#dirty = true;
    this.#wakeUp?.();
  }

  /** Ends the worker (shutdown): no new attempt starts; the lease is released. */
  stop(): void {
    this.#stopped = true;
    this.#wakeUp?.();
  }

  /**
   * Runs until caught up and idle, the lease is lost or not to be had, the webhook is disabled or deleted, or
   * stop(). Resolves true when entries arrived while it was letting go, so the caller should run a new worker.
   */
  async run(): Promise<boolean> {
    const { store, wake, log, options } = this.#context;
    const id = this.#webhookId;
    const story = this.#story;
    if (!(await store.acquireLease(story, id, this.#token, options.leaseMs))) return false;
    this.#renewTimer = setInterval(() => {
      store.renewLease(story, id, this.#token, options.leaseMs).then(
        (held) => {
          if (!held) this.#loseLease();
        },
        () => this.#loseLease(),
      );
    }, Math.max(100, Math.floor(options.leaseMs / 3)));
    this.#renewTimer.unref();
    let subscribed = false;
    try {
      await wake.add(story, this).then(
        () => (subscribed = true),
        (error: unknown) => log.warn({ story, webhook: id, err: String(error) }, 'webhook worker not subscribed: relying on the sweep'),
      );
      await this.#deliverLoop();
    } catch (error) {
      log.warn({ story, webhook: id, err: error instanceof Error ? error.message : String(error) }, 'webhook delivery interrupted');
    } finally {
      clearInterval(this.#renewTimer);
      if (subscribed) wake.remove(story, this);
      await store.releaseLease(story, id, this.#token).catch(() => {});
    }
    if (this.#stopped || this.#lost) return false;
    const webhook = await store.get(id).catch(() => null);
    return webhook?.enabled === true && (await store.isBehind(story, id, webhook.startAfter).catch(() => false));
  }

  #loseLease(): void {
    this.#lost = true;
    this.#wakeUp?.();
  }

  get #done(): boolean {
    return this.#stopped || this.#lost;
  }

  async #deliverLoop(): Promise<void> {
    const { store } = this.#context;
    const id = this.#webhookId;
    const story = this.#story;
    while (!this.#done) {
      this.#dirty = false;
      const webhook = await store.get(id);
      if (!webhook?.enabled) return;
      const read = await store.read(story, id, this.#token, webhook.startAfter, batchSize);
      if (!read.held) return this.#loseLease();
      if (read.gapNext !== undefined) {
        const payload: WebhookPayload = { type: 'gap', story, after: read.cursor, next: read.gapNext };
        if (!(await this.#send(webhook, `${id}_${story}_gap_${read.gapNext}`, JSON.stringify(payload)))) return;
        if (!(await store.advance(story, id, this.#token, read.cursor, read.gapNext))) return this.#loseLease();
        continue;
      }
      if (read.entries.length === 0) {
        if (this.#dirty) continue;
        if (!(await this.#idle())) return;
        continue;
      }
      for (const entry of read.entries) {
        if (!(await this.#send(webhook, `${id}_${story}_${entry.id}`, payloadOf(story, entry)))) return;
        if (!(await store.advance(story, id, this.#token, entry.id))) return this.#loseLease();
      }
    }
  }

  /** Waits for a wake (true) or `idleMs` without one (false). */
  async #idle(): Promise<boolean> {
    return (await this.#sleep(this.#context.options.idleMs, true)) === 'woken';
  }

  /** Sleeps `ms`; with `wakeable`, a wake ends it early. stop() and a lost lease always end it. */
  #sleep(ms: number, wakeable: boolean): Promise<'woken' | 'elapsed' | 'ended'> {
    return new Promise((resolve) => {
      const end = (why: 'woken' | 'elapsed' | 'ended'): void => {
        clearTimeout(timer);
        this.#wakeUp = undefined;
        resolve(why);
      };
      const timer = setTimeout(() => end('elapsed'), ms);
      this.#wakeUp = () => {
        if (this.#done) end('ended');
        else if (wakeable) end('woken');
      };
      if (this.#done) end('ended');
    });
  }

  /** Delivers one message until a 2xx (true), or until it must give up (false: stopped, lease lost, webhook disabled or gone). */
  async #send(initial: StoredWebhook, messageId: string, body: string): Promise<boolean> {
    const { store, limit, log, options } = this.#context;
    const story = this.#story;
    let webhook = initial;
    for (let attempt = 0; ; attempt++) {
      if (this.#done) return false;
      const outcome = await limit.run(() =>
        postWebhook(webhook.url, { ...signDelivery(webhook.secret, messageId, Math.floor(Date.now() / 1000), body) }, body, {
          timeoutMs: options.timeoutMs,
          allowPrivate: options.allowPrivate,
        }),
      );
      if (outcome.ok) return true;
      const now = Date.now();
      const since = Math.max(await store.failingSince(story, webhook.id, now), webhook.enabledAtMs);
      log.info({ story, webhook: webhook.id, messageId, attempt, reason: outcome.reason }, 'webhook delivery failed');
      if (now - since >= options.retryMaxMs) {
        const reason = `deliveries to ${new URL(webhook.url).host} failed for ${now - since} ms (story "${story}"); last: ${outcome.reason}`;
        await store.setEnabled(webhook.id, false, new Date(now), reason);
        log.warn({ story, webhook: webhook.id, reason }, 'webhook disabled after repeated failure');
        return false;
      }
      const delay = Math.min(options.retryBaseMs * 2 ** Math.min(attempt, 30), maxRetryDelayMs);
      // Full jitter over the upper half: endpoints coming back are not hit by every retry at once.
      await this.#sleep(delay / 2 + Math.random() * (delay / 2), false);
      const current = await store.get(webhook.id);
      if (!current?.enabled) return false;
      webhook = current;
    }
  }
}

function payloadOf(story: string, entry: StoredEntry): string {
  return `{"type":"update","story":"${story}","update":${updateJson(story, entry.id, entry.data)}}`;
}
