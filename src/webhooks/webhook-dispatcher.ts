import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { storyMatches } from '../protocol/webhooks.js';
import type { StoredWebhook, WebhookStore } from '../store/webhook-store.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import { DeliveryWorker, type DeliveryOptions, type WakeSource } from './delivery-worker.js';

export interface WebhookDispatcherOptions extends DeliveryOptions {
  /** Deliveries this node has in flight at most. @default 32 (WEBHOOK_CONCURRENCY) */
  concurrency: number;
  /** Period of the safety-net sweep (and of reloading the registry). @default 30000 (WEBHOOK_SWEEP_MS) */
  sweepMs: number;
}

/**
 * A node's share of webhook delivery. It keeps the registry in memory (reloaded on every sweep and on local
 * changes) and runs one DeliveryWorker per (webhook, story) it holds the lease of. Work starts three ways:
 * - an append on this node (`storyAppended`, wired to the store): a story created later under a pattern is
 *   covered from its first entry;
 * - the hub: a worker holding a lease is subscribed to its story like a socket, so entries appended on other
 *   nodes wake it through the same sharded subscription;
 * - the sweep, every `sweepMs`: stories updated since each webhook's start (one ZRANGEBYSCORE of the story
 *   index) that are behind their cursor and have no local worker. It picks up work whose node died (once its
 *   lease expired) and appends whose node died before it could notify.
 * Nothing reads across stories: every read of entries, cursor and lease is in one story's slot.
 */
export class WebhookDispatcher {
  readonly #store: WebhookStore;
  readonly #wake: WakeSource;
  readonly #log: Logger;
  readonly #options: WebhookDispatcherOptions;
  readonly #limit: ConcurrencyLimit;
  readonly #nodeId = randomBytes(6).toString('hex');
  readonly #workers = new Map<string, { worker: DeliveryWorker; done: Promise<void> }>();
  #webhooks: StoredWebhook[] = [];
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #stopped = false;

  constructor(store: WebhookStore, wake: WakeSource, log: Logger, options: WebhookDispatcherOptions) {
    this.#store = store;
    this.#wake = wake;
    this.#log = log;
    this.#options = options;
    this.#limit = new ConcurrencyLimit(options.concurrency);
  }

  /** Loads the registry, sweeps once and then every `sweepMs`. */
  start(): void {
    void this.sweep();
    this.#sweepTimer = setInterval(() => void this.sweep(), this.#options.sweepMs);
    this.#sweepTimer.unref();
  }

  /** The store's append listener: a story got a new entry on this node. Cheap: a match per enabled webhook. */
  readonly storyAppended = (story: string): void => {
    for (const webhook of this.#webhooks) if (webhook.enabled && storyMatches(webhook.stories, story)) this.#ensure(webhook.id, story);
  };

  /** Reloads the registry and looks for work at once (after a registration or a re-enable on this node). */
  kick(): void {
    void this.sweep();
  }

  /** One sweep (joined when one is running). */
  sweep(): Promise<void> {
    return (this.#sweeping ??= this.#sweep().finally(() => (this.#sweeping = undefined)));
  }

  async #sweep(): Promise<void> {
    try {
      this.#webhooks = await this.#store.list();
      for (const webhook of this.#webhooks) {
        if (!webhook.enabled || this.#stopped) continue;
        const startMs = Number(webhook.startAfter.split('-')[0]);
        const patterns = webhook.stories.some((p) => p.endsWith('*'));
        const candidates = new Set(webhook.stories.filter((p) => !p.endsWith('*')));
        if (patterns) for (const story of await this.#store.storiesUpdatedSince(startMs)) if (storyMatches(webhook.stories, story)) candidates.add(story);
        const pending = [...candidates].filter((story) => !this.#workers.has(keyOf(webhook.id, story)));
        for (let i = 0; i < pending.length; i += 50) {
          const chunk = pending.slice(i, i + 50);
          const behind = await Promise.all(chunk.map((story) => this.#store.isBehind(story, webhook.id, webhook.startAfter)));
          chunk.forEach((story, j) => behind[j] && this.#ensure(webhook.id, story));
        }
      }
    } catch (error) {
      this.#log.warn({ err: error instanceof Error ? error.message : String(error) }, 'webhook sweep failed; retrying at the next one');
    }
  }

  #ensure(webhookId: string, story: string): void {
    if (this.#stopped) return;
    const key = keyOf(webhookId, story);
    const running = this.#workers.get(key);
    if (running) return running.worker.wake();
    const worker = new DeliveryWorker(
      { store: this.#store, wake: this.#wake, limit: this.#limit, log: this.#log, nodeId: this.#nodeId, options: this.#options },
      webhookId,
      story,
    );
    const done = worker.run().then(
      (again) => {
        this.#workers.delete(key);
        if (again) this.#ensure(webhookId, story);
      },
      (error: unknown) => {
        this.#workers.delete(key);
        this.#log.warn({ story, webhook: webhookId, err: error instanceof Error ? error.message : String(error) }, 'webhook worker failed');
      },
    );
    this.#workers.set(key, { worker, done });
  }

  /** Workers running on this node (for tests and metrics). */
  get activeWorkers(): number {
    return this.#workers.size;
  }

  /** Stops sweeping and every worker; their leases are released (an attempt in flight finishes first). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#sweepTimer);
    const running = [...this.#workers.values()];
    for (const { worker } of running) worker.stop();
    await Promise.all(running.map((r) => r.done));
    await this.#sweeping;
  }
}

function keyOf(webhookId: string, story: string): string {
  return `${webhookId} ${story}`;
}
