import { compareUpdateIds } from '../protocol/ids.js';
import type { Webhook } from '../protocol/webhooks.js';
import { storyIndexKey, storyKeys, webhookRegistryKeys, webhookStoryKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';
import { guardRedis } from './redis-connection.js';
import { loadScripts, type ScriptName, type ScriptRunner } from './script-loader.js';

/** A webhook as stored: what the API shows, plus its secret and where its deliveries start. */
export interface StoredWebhook extends Webhook {
  secret: string;
  /** Entries after this id are delivered (`<registration ms>-0`, Redis time): "every new entry". */
  startAfter: string;
  /** When it was last re-enabled (ms), or 0: failures before it do not count toward disabling it again. */
  enabledAtMs: number;
}

/** What a lease holder reads for one (webhook, story). */
export type DeliveryRead =
  | { held: false }
  | {
      held: true;
      cursor: string;
      /** The oldest retained id when entries after `cursor` were trimmed and not yet announced, else undefined. */
      gapNext: string | undefined;
      entries: { id: string; data: string }[];
    };

/**
 * Owns the webhook keys: the registry (global, under `{webhooks}`) and, per (webhook, story), the lease and the
 * cursor (in the story's slot). Every per-story operation touches one slot.
 */
export class WebhookStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #scripts: Record<ScriptName, ScriptRunner>;

  constructor(redis: RedisClient, keyPrefix: string) {
    this.#redis = redis;
    this.#prefix = keyPrefix;
    this.#scripts = loadScripts(redis);
  }

  /** Redis's clock in ms (one TIME): registrations start from it, the clock stream ids come from. */
  async redisTimeMs(): Promise<number> {
    const [seconds, micros] = await guardRedis(() => this.#redis.time());
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /** Stores a new webhook (its hash and its id in the set, one MULTI in one slot). */
  async create(webhook: StoredWebhook): Promise<void> {
    const keys = webhookRegistryKeys(this.#prefix);
    await guardRedis(async () => {
      await this.#redis
        .multi()
        .hset(keys.webhook(webhook.id), {
          url: webhook.url,
          stories: JSON.stringify(webhook.stories),
          secret: webhook.secret,
          createdAt: webhook.createdAt,
          startAfter: webhook.startAfter,
          enabled: webhook.enabled ? '1' : '0',
        })
        .sadd(keys.ids, webhook.id)
        .exec();
    });
  }

  async get(id: string): Promise<StoredWebhook | null> {
    const hash = await guardRedis(() => this.#redis.hgetall(webhookRegistryKeys(this.#prefix).webhook(id)));
    return fromHash(id, hash);
  }

  /** Every registered webhook, oldest first. */
  async list(): Promise<StoredWebhook[]> {
    const keys = webhookRegistryKeys(this.#prefix);
    const ids = await guardRedis(() => this.#redis.smembers(keys.ids));
    const hashes = await guardRedis(() => Promise.all(ids.map((id) => this.#redis.hgetall(keys.webhook(id)))));
    return ids
      .map((id, i) => fromHash(id, hashes[i]!))
      .filter((w): w is StoredWebhook => w !== null)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Removes a webhook; false when there was none. Its per-story cursors stay (a few bytes each): nothing reads them again. */
  async delete(id: string): Promise<boolean> {
    const keys = webhookRegistryKeys(this.#prefix);
    const replies = await guardRedis(() => this.#redis.multi().del(keys.webhook(id)).srem(keys.ids, id).exec());
    return Number(replies?.[0]?.[1] ?? 0) > 0;
  }

  /** Enables (`reason` undefined) or disables a webhook; false when there is no such webhook. */
  async setEnabled(id: string, enabled: boolean, at: Date, reason?: string): Promise<boolean> {
    const key = webhookRegistryKeys(this.#prefix).webhook(id);
    const changed = await guardRedis(() => this.#scripts.webhookSetEnabled([key], [enabled ? '1' : '0', at.toISOString(), reason ?? '']));
    return changed === 1;
  }

  /** Stories updated at or after `ms`, from the story index (one ZRANGEBYSCORE): what a sweep looks at. */
  async storiesUpdatedSince(ms: number): Promise<string[]> {
    return guardRedis(() => this.#redis.zrangebyscore(storyIndexKey(this.#prefix), ms, '+inf'));
  }

  /** Takes the (webhook, story) lease when nobody holds it (SET NX PX). */
  async acquireLease(story: string, webhookId: string, token: string, ttlMs: number): Promise<boolean> {
    const { lease } = webhookStoryKeys(this.#prefix, story, webhookId);
    return (await guardRedis(() => this.#redis.set(lease, token, 'PX', ttlMs, 'NX'))) === 'OK';
  }

  /** Extends the lease while `token` holds it; false when it does not (it expired and maybe another node took it). */
  async renewLease(story: string, webhookId: string, token: string, ttlMs: number): Promise<boolean> {
    const { lease } = webhookStoryKeys(this.#prefix, story, webhookId);
    return (await guardRedis(() => this.#scripts.leaseRenew([lease], [token, ttlMs]))) === 1;
  }

  /** Gives the lease up if `token` holds it. */
  async releaseLease(story: string, webhookId: string, token: string): Promise<void> {
    const { lease } = webhookStoryKeys(this.#prefix, story, webhookId);
    await guardRedis(() => this.#scripts.leaseRenew([lease], [token, '0']));
  }

  /** The entries after the cursor (at most `limit`) and any gap, if `token` holds the lease (see webhook-read.lua). */
  async read(story: string, webhookId: string, token: string, startAfter: string, limit: number): Promise<DeliveryRead> {
    const keys = webhookStoryKeys(this.#prefix, story, webhookId);
    const reply = (await guardRedis(() =>
      this.#scripts.webhookRead([storyKeys(this.#prefix, story).updates, keys.state, keys.lease], [token, startAfter, limit]),
    )) as (string | number)[];
    if (reply[0] !== 1) return { held: false };
    const entries: { id: string; data: string }[] = [];
    for (let i = 3; i < reply.length; i += 2) entries.push({ id: String(reply[i]), data: String(reply[i + 1]) });
    return { held: true, cursor: String(reply[1]), gapNext: reply[2] === '' ? undefined : String(reply[2]), entries };
  }

  /** Moves the cursor to `id` (and records an announced gap) if `token` still holds the lease. */
  async advance(story: string, webhookId: string, token: string, id: string, gapTo?: string): Promise<boolean> {
    const keys = webhookStoryKeys(this.#prefix, story, webhookId);
    return (await guardRedis(() => this.#scripts.webhookAdvance([keys.state, keys.lease], [token, id, gapTo ?? '']))) === 1;
  }

  /** When deliveries of (webhook, story) began failing (ms), recording `now` if they had not: HSETNX then HGET. */
  async failingSince(story: string, webhookId: string, now: number): Promise<number> {
    const { state } = webhookStoryKeys(this.#prefix, story, webhookId);
    const [, since] = await guardRedis(async () => {
      const replies = await this.#redis.multi().hsetnx(state, 'failingSince', String(now)).hget(state, 'failingSince').exec();
      return [replies?.[0]?.[1], replies?.[1]?.[1]] as const;
    });
    return Number(since ?? now);
  }

  /** True when the story has entries the webhook has not acknowledged: its newest id against the cursor (two reads in one slot). */
  async isBehind(story: string, webhookId: string, startAfter: string): Promise<boolean> {
    const keys = webhookStoryKeys(this.#prefix, story, webhookId);
    const [lastId, cursor] = await guardRedis(async () => {
      const replies = await this.#redis.multi().hget(storyKeys(this.#prefix, story).meta, 'lastId').hget(keys.state, 'cursor').exec();
      return [replies?.[0]?.[1] as string | null, replies?.[1]?.[1] as string | null] as const;
    });
    if (lastId === null) return false;
    return compareUpdateIds(lastId, cursor ?? startAfter) > 0;
  }
}

function fromHash(id: string, hash: Record<string, string>): StoredWebhook | null {
  if (hash.url === undefined) return null;
  return {
    id,
    url: hash.url,
    stories: JSON.parse(hash.stories ?? '[]') as string[],
    createdAt: hash.createdAt ?? '',
    enabled: hash.enabled === '1',
    ...(hash.disabledAt ? { disabledAt: hash.disabledAt } : {}),
    ...(hash.disabledReason ? { disabledReason: hash.disabledReason } : {}),
    secret: hash.secret ?? '',
    startAfter: hash.startAfter ?? '0-0',
    enabledAtMs: hash.enabledAt ? Date.parse(hash.enabledAt) : 0,
  };
}
