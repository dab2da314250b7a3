/**
 * Every Redis key the service uses, built in one place. A story's keys share the hash tag `{story}` so that
 * they live in one Redis Cluster slot and one Lua script may touch them all. The story index is global and
 * therefore in its own slot: it is only ever updated as a separate, idempotent step.
 */
export interface StoryKeys {
  /** The story's Redis Stream: one entry per update, fields `k` (kind) and `d` (update JSON). */
  readonly updates: string;
  /** Hash: story metadata (title, summary, status, coverage times) plus `lastId`, `count` and `version` (metadata writes). */
  readonly meta: string;
  /**
   * The story's audit stream: one entry per write (update, correction, metadata change), field `d` (the record's
   * JSON without id and time). Never trimmed, never served to readers.
   */
  readonly audit: string;
  /** String per idempotency key, `<id> <update JSON>`, expiring after IDEMPOTENCY_TTL_SECONDS. */
  idempotency(key: string): string;
  /**
   * The story's shard pub/sub channel (SPUBLISH/SSUBSCRIBE): the append script publishes each new entry on it.
   * Not a key, but named under the same hash tag so that it lives in the stream's slot: a script may only
   * publish to a shard channel of the slot it runs in.
   */
  readonly channel: string;
}

export function storyKeys(prefix: string, story: string): StoryKeys {
  const base = `${prefix}story:{${story}}`;
  return {
    updates: `${base}:updates`,
    meta: `${base}:meta`,
    audit: `${base}:audit`,
    idempotency: (key) => `${base}:idem:${key}`,
    channel: `${base}:live`,
  };
}

/**
 * Stream: the service audit trail, one entry per write that belongs to no one story (tokens, webhooks), field
 * `d` (the record's JSON). Never trimmed, never served to readers. Global, so in its own slot.
 */
export function serviceAuditKey(prefix: string): string {
  return `${prefix}{service}:audit`;
}

/** Sorted set of story ids scored by their last update time in ms: `GET /v1/stories` reads it instead of scanning keys. */
export function storyIndexKey(prefix: string): string {
  return `${prefix}stories`;
}

/** The keys of one webhook's delivery of one story: in the story's slot, so one script may check the lease and move the cursor. */
export interface WebhookStoryKeys {
  /** String, the lease token of the node delivering (SET NX PX, renewed while it delivers). */
  readonly lease: string;
  /** Hash: `cursor` (last id acknowledged), `gapTo` (oldest retained id of the last announced gap), `failingSince` (ms). */
  readonly state: string;
}

export function webhookStoryKeys(prefix: string, story: string, webhookId: string): WebhookStoryKeys {
  const base = `${prefix}story:{${story}}:wh:${webhookId}`;
  return { lease: `${base}:lease`, state: `${base}:state` };
}

/**
 * The webhook registry: a set of ids and one hash per webhook, all under the hash tag `{webhooks}` so that they
 * share one Cluster slot and a registration is one MULTI.
 */
export function webhookRegistryKeys(prefix: string): { ids: string; webhook(id: string): string } {
  return { ids: `${prefix}{webhooks}:ids`, webhook: (id) => `${prefix}{webhooks}:wh:${id}` };
}

/**
 * Sorted set of embargoed story ids scored by their `embargoUntil` in ms: every node's EmbargoScheduler reads the
 * due ones. Global, so in its own slot; the switch itself is claimed in the story's slot (release-embargo.lua).
 */
export function embargoDueKey(prefix: string): string {
  return `${prefix}embargoes`;
}
