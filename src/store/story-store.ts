import { Command } from 'ioredis';
import type { Logger } from 'pino';
import { StoppressError } from '../protocol/errors.js';
import { maxUpdateId } from '../protocol/ids.js';
import {
  publishedAtOf,
  storyChangePrefix,
  type StoryMetaInput,
  type StorySummary,
  type StoryChange,
  type StoryView,
  type StreamEntry,
  type Update,
  type UpdateFlagsInput,
  type UpdateInput,
} from '../protocol/update.js';
import { foldCorrections, foldMore } from './fold.js';
import { compareUpdateIds } from '../protocol/ids.js';
import type { AuditPage } from '../protocol/audit.js';
import { auditRecordOf, auditRecordOpening } from './audit-records.js';
import { embargoDueKey, storyIndexKey, storyKeys } from './keys.js';
import { loadScripts, type ScriptName, type ScriptRunner } from './script-loader.js';
import type { RedisClient } from './redis-client.js';
import { guardRedis } from './redis-connection.js';
import { StoryIndexWriter } from './story-index-writer.js';

export interface StoryStoreOptions {
  /** Prefix of every key, so that several deployments (or test files) share one Redis. @default "sp:" */
  keyPrefix: string;
  /** Approximate number of entries kept per story (XADD MAXLEN ~). @default 10000 */
  streamMaxLen: number;
  /** How long a repeated Idempotency-Key answers the first update. @default 86400 */
  idempotencyTtlSeconds: number;
  /** Where index repairs are reported. @default silent */
  log?: Logger;
}

export interface AppendResult {
  /** False when the idempotency key was seen before: the result is then the first update and nothing was appended. */
  created: boolean;
  id: string;
  /** The stored update as served, already serialised (the ingest route sends it as is). */
  json: string;
}

/** A raw stream entry as stored: its id and the update JSON without id, story and publishedAt. */
export interface StoredEntry {
  id: string;
  data: string;
}

export interface StreamBounds {
  /** Newest entry id, or null for an empty or absent stream. */
  lastId: string | null;
  /** Oldest retained entry id, or null. */
  firstId: string | null;
  /** Whether entries were ever trimmed away (entries ever added > entries held). */
  trimmed: boolean;
}

/**
 * What a story's cached views are keyed by, read in O(1) from its meta hash: the newest entry id (moved by every
 * append, corrections and withdrawals included) and the metadata `version` (moved by every metadata write).
 */
export interface StoryStamp {
  /** Newest entry id, or null when the story has no entries. */
  lastId: string | null;
  /** Metadata writes so far (HINCRBY on each); 0 before the first. */
  version: number;
  /** The story's status as of this stamp ("live", "ended"), or null when none was set. */
  status: string | null;
  /** Stored visibility ("public", "private"), or null when never set (public). Absent in stamps not read from Redis. */
  visibility?: string | null;
  /** Pending embargo (ISO date-time), or null. See access/story-access.ts isPrivateAt. */
  embargoUntil?: string | null;
}

/** A story's visibility after a metadata write, as stored. */
export interface StoredVisibility {
  visibility: 'public' | 'private';
  embargoUntil: string | null;
}

/** A story view with the stamp it was read at, both from one atomic read. */
export interface StorySnapshot {
  view: StoryView;
  stamp: StoryStamp;
  /** Characters of stored update JSON read: a cheap measure of the view's size in memory. */
  storedChars: number;
}

const metaFields = ['title', 'summary', 'status', 'coverageStartTime', 'coverageEndTime', 'pinned', 'visibility', 'embargoUntil'] as const;

/** The metadata fields a metadata write sets or removes (`pinned` changes through an update's flags only). */
export type StoryMetaField = Exclude<(typeof metaFields)[number], 'pinned' | 'visibility' | 'embargoUntil'>;

/** A metadata write: the fields to set and the fields to remove; every other field stays as it is. */
export interface StoryMetaChange {
  set: Partial<Record<StoryMetaField, string>>;
  remove: readonly StoryMetaField[];
}

/** The result of a story change: the stream entry that announced it. */
export interface StoryChangeResult {
  id: string;
  /** The entry as served (with `id`, `story`, `publishedAt`). */
  change: StoryChange;
}

/**
 * Owns every Redis key and script of a story. Maps Redis replies to protocol types.
 * All methods throw StoppressError (`redis_unavailable` when Redis cannot be reached in time).
 */
export class StoryStore {
  readonly #redis: RedisClient;
  readonly #options: StoryStoreOptions;
  readonly #scripts: Record<ScriptName, ScriptRunner>;
  readonly #index: StoryIndexWriter;
  readonly #appendListeners: ((story: string, id: string) => void)[] = [];

  constructor(redis: RedisClient, options: StoryStoreOptions) {
    this.#redis = redis;
    this.#options = options;
    this.#scripts = loadScripts(redis);
    this.#index = new StoryIndexWriter(redis, storyIndexKey(options.keyPrefix), options.log);
  }

  /** The Redis key of a story's stream. */
  streamKey(story: string): string {
    return storyKeys(this.#options.keyPrefix, story).updates;
  }

  /** The shard channel on which the append script publishes a story's new entries (see append-update.lua). */
  channel(story: string): string {
    return storyKeys(this.#options.keyPrefix, story).channel;
  }

  /**
   * Appends a validated update. The target check, the idempotency record, the XADD and the SPUBLISH of the
   * new entry are one Lua call, so concurrent retries with one idempotency key append once and no entry is
   * stored unannounced. The story index is updated after, as its own idempotent step (it lives in another
   * Cluster slot): when that step fails the update is stored all the same, so the result is still the stored
   * update (an error would invite a duplicate) and the index is repaired in the background.
   */
  async append(story: string, input: UpdateInput, idempotencyKey?: string, publisher: string | null = null): Promise<AppendResult> {
    const keys = storyKeys(this.#options.keyPrefix, story);
    const audit =
      input.kind === 'correction'
        ? auditRecordOpening(publisher, input.retract ? 'retract' : 'correct', { target: input.corrects })
        : auditRecordOpening(publisher, 'publish');
    const stored = { ...input, occurredAt: input.occurredAt ?? new Date().toISOString() };
    const json = JSON.stringify(stored);
    const target = input.kind === 'correction' ? input.corrects : input.kind === 'reaction' ? (input.inReplyTo ?? '') : '';
    const reply = (await guardRedis(() =>
      this.#scripts.appendUpdate(
        [keys.updates, keys.meta, keys.idempotency(idempotencyKey ?? ''), keys.channel, keys.audit],
        [
          this.#options.streamMaxLen,
          this.#options.idempotencyTtlSeconds,
          idempotencyKey === undefined ? '0' : '1',
          target,
          input.kind === 'correction' ? '1' : '0',
          input.kind,
          json,
          audit,
        ],
      ),
    )) as [number, string?, string?];

    const [code, id] = reply;
    if (code === -1) {
      const field = input.kind === 'correction' ? 'corrects' : 'inReplyTo';
      throw new StoppressError('target_not_found', `${field} "${target}" is not an update of story "${story}"`, [
        { path: field, message: 'no such update in this story' },
      ]);
    }
    if (code === -2) {
      throw new StoppressError('target_is_correction', `corrects "${target}" is itself a correction: correct the original update`, [
        { path: 'corrects', message: 'is a correction' },
      ]);
    }
    // A repeat also records the index: the first attempt may have stored the update and failed just after.
    await this.#index.record(story, msOf(id!));
    if (code === 0) return { created: false, id: id!, json: updateJson(story, id!, reply[2]!) };
    for (const listener of this.#appendListeners) listener(story, id!);
    return { created: true, id: id!, json: updateJson(story, id!, json) };
  }

  /**
   * Calls `listener` after each update this process appends (not a repeat), synchronously and in order: node-local
   * work that must start with a story's new entries (webhooks: a story created under a pattern) hooks in here.
   * Other nodes' appends reach a node through the fan-in instead.
   */
  onAppend(listener: (story: string, id: string) => void): void {
    this.#appendListeners.push(listener);
  }

  /** Stops background index repairs (on shutdown). */
  close(): void {
    this.#index.close();
  }

  /** Raw entries after `after` (exclusive; from the start when undefined), oldest first, at most `limit`. */
  async readEntries(story: string, after: string | undefined, limit: number): Promise<StoredEntry[]> {
    if (after === maxUpdateId) return [];
    const key = storyKeys(this.#options.keyPrefix, story).updates;
    const reply = await guardRedis(() => this.#redis.xrange(key, rangeStart(after), '+', 'COUNT', limit));
    return reply.map(([id, fields]) => ({ id, data: dataField(fields) }));
  }

  /** The same as `readEntries`, with each entry's JSON as bytes: for the backlog, which only copies it to a socket. */
  async readEntryBytes(story: string, after: string | undefined, limit: number): Promise<{ id: string; data: Buffer }[]> {
    if (after === maxUpdateId) return [];
    const key = storyKeys(this.#options.keyPrefix, story).updates;
    const reply = await guardRedis(() => this.#redis.xrangeBuffer(key, rangeStart(after), '+', 'COUNT', limit));
    return reply.map(([id, fields]) => ({ id: id.toString(), data: dataFieldBytes(fields) }));
  }

  /** Entries after `after` as updates, with the cursor to continue from. */
  async readRange(story: string, after: string | undefined, limit: number): Promise<{ updates: Update[]; nextAfter: string | null }> {
    const entries = await this.readEntries(story, after, limit);
    return {
      // Story changes are not updates: the raw list skips them (the cursor still moves past them).
      updates: entries.filter((e) => !isStoryChangeData(e.data)).map((e) => parseUpdate(story, e) as Update),
      nextAfter: entries.at(-1)?.id ?? after ?? null,
    };
  }

  /** Oldest and newest id of a story's stream and whether it was ever trimmed: what a resuming subscriber needs to know. */
  async streamBounds(story: string): Promise<StreamBounds> {
    const key = storyKeys(this.#options.keyPrefix, story).updates;
    const reply = (await guardRedis(() => this.#scripts.streamBounds([key], []))) as [string, string, string, string] | [];
    if (reply.length === 0) return { lastId: null, firstId: null, trimmed: false };
    const [first, last, added, length] = reply;
    // MAXLEN trimming does not move `max-deleted-entry-id` (only XDEL does), so compare the counters instead.
    return { firstId: first || null, lastId: last || null, trimmed: Number(added) > Number(length) };
  }

  /** The newest entry id of a story, or null. */
  async lastId(story: string): Promise<string | null> {
    const key = storyKeys(this.#options.keyPrefix, story).updates;
    const reply = await guardRedis(() => this.#redis.xrevrange(key, '+', '-', 'COUNT', 1));
    return reply[0]?.[0] ?? null;
  }

  /**
   * The story view: metadata and updates oldest first with corrections folded in. `lastId` is the newest
   * entry (a correction included). Null when the story has neither updates nor metadata.
   */
  async readView(story: string): Promise<StoryView | null> {
    return (await this.readSnapshot(story))?.view ?? null;
  }

  /**
   * The story view and its stamp, read in one MULTI (XRANGE of the whole stream + HGETALL of the meta hash), so
   * the stamp describes exactly the entries and metadata of the view. Null when the story has neither updates
   * nor metadata. This is the O(n) read the read cache does once per change.
   */
  async readSnapshot(story: string): Promise<StorySnapshot | null> {
    const keys = storyKeys(this.#options.keyPrefix, story);
    const [entries, meta] = await guardRedis(async () => {
      const replies = await this.#redis.multi().xrange(keys.updates, '-', '+').hgetall(keys.meta).exec();
      if (!replies) throw new Error('MULTI aborted');
      for (const [error] of replies) if (error) throw error;
      return [replies[0]![1] as [string, string[]][], replies[1]![1] as Record<string, string>] as const;
    });
    if (entries.length === 0 && metaFields.every((f) => meta[f] === undefined)) return null;
    let storedChars = 0;
    const updates = entries.map(([id, fields]) => {
      const data = dataField(fields);
      storedChars += data.length;
      return parseUpdate(story, { id, data });
    });
    const lastId = entries.at(-1)?.[0] ?? null;
    return {
      view: { story, ...pickMeta(meta), lastId, updates: foldCorrections(updates) },
      // The stream's own last id: the meta hash's `lastId` is set in the same Lua step, so they agree.
      stamp: stampOf(lastId, meta),
      storedChars,
    };
  }

  /**
   * The snapshot after `previous`, reading only what changed: the entries after `previous`'s last id, the meta
   * hash and the oldest retained id, in one MULTI. The entries are folded onto `previous`'s view (dropping what
   * MAXLEN trimmed meanwhile), which equals folding the whole stream. Falls back to `readSnapshot` when the
   * stream does not continue `previous` (deleted, recreated or emptied).
   */
  async readSnapshotAfter(story: string, previous: StorySnapshot): Promise<StorySnapshot | null> {
    const after = previous.stamp.lastId;
    if (after === null) return this.readSnapshot(story);
    const keys = storyKeys(this.#options.keyPrefix, story);
    const [entries, meta, first] = await guardRedis(async () => {
      const replies = await this.#redis.multi().xrange(keys.updates, `(${after}`, '+').hgetall(keys.meta).xrange(keys.updates, '-', '+', 'COUNT', 1).exec();
      if (!replies) throw new Error('MULTI aborted');
      for (const [error] of replies) if (error) throw error;
      return [replies[0]![1] as [string, string[]][], replies[1]![1] as Record<string, string>, replies[2]![1] as [string, string[]][]] as const;
    });
    const lastId = entries.at(-1)?.[0] ?? after;
    const firstId = first[0]?.[0];
    // The meta hash's lastId is set in the same Lua step as each XADD: a mismatch means this is not the stream
    // `previous` was read from.
    if (firstId === undefined || meta.lastId !== lastId) return this.readSnapshot(story);
    let storedChars = 0;
    const updates = entries.map(([id, fields]) => {
      const data = dataField(fields);
      storedChars += data.length;
      return parseUpdate(story, { id, data });
    });
    const previousUpdates = previous.view.updates;
    let kept = 0;
    while (kept < previousUpdates.length && compareUpdateIds(previousUpdates[kept]!.id, firstId) < 0) kept += 1;
    const retained = kept === 0 ? previousUpdates : previousUpdates.slice(kept);
    const keptShare = previousUpdates.length === 0 ? 1 : retained.length / previousUpdates.length;
    return {
      view: { story, ...pickMeta(meta), lastId, updates: foldMore(retained, updates) },
      stamp: stampOf(lastId, meta),
      storedChars: Math.round(previous.storedChars * keptShare) + storedChars,
    };
  }

  /** The stamp of a story: one HMGET of its meta hash, O(1). Every cached read revalidates with it. */
  async readStamp(story: string): Promise<StoryStamp> {
    const keys = storyKeys(this.#options.keyPrefix, story);
    // Sent on its own, not through ioredis's auto-pipeline: the read path sends this thousands of times a
    // second, and each auto-pipelined batch left objects that outlived the next scavenge and were promoted
    // (measured under 20 connections on one story: 400 KB of 13 MB survived each scavenge, 1.2-2.4 ms pauses;
    // sent on its own, 30 KB and 0.5 ms).
    const read = new Command('hmget', [keys.meta, 'lastId', 'version', 'status', 'visibility', 'embargoUntil'], { replyEncoding: 'utf8' });
    const [lastId, version, status, visibility, embargoUntil] = (await guardRedis(() => {
      void this.#redis.sendCommand(read);
      return read.promise;
    })) as (string | null)[];
    return { lastId: lastId ?? null, version: Number(version ?? 0), status: status ?? null, visibility: visibility ?? null, embargoUntil: embargoUntil ?? null };
  }

  /**
   * Replaces a story's metadata (fields left out are removed) and records who did it, in one script call that
   * also increments its `version` (so a reader that sees the new fields sees the new version) and appends the
   * story-change entry; then moves the story to the top of the index.
   *
   * `pinned` (set through an update's flags), `visibility` and `embargoUntil` are the exception: left out, they
   * keep their current values, so a story never becomes public by omission. An `embargoUntil` makes the story
   * private until then (and schedules the switch, see EmbargoScheduler); `embargoUntil: null` lifts a pending
   * embargo. Resolves the visibility stored after the write.
   */
  async putMeta(story: string, meta: StoryMetaInput, publisher: string | null = null): Promise<StoredVisibility> {
    const keys = storyKeys(this.#options.keyPrefix, story);
    const present: [string, string][] = storyMetaFields.flatMap((f) => (meta[f] === undefined ? [] : [[f, meta[f]] as [string, string]]));
    const absent: string[] = storyMetaFields.filter((f) => meta[f] === undefined);
    if (meta.visibility !== undefined) present.push(['visibility', meta.visibility]);
    const embargoMs = typeof meta.embargoUntil === 'string' ? Date.parse(meta.embargoUntil) : undefined;
    if (embargoMs !== undefined) {
      present.push(['visibility', 'private'], ['embargoUntil', meta.embargoUntil!], ['embargoMs', String(embargoMs)]);
      // Scheduled first: if the metadata write then fails, the scheduler finds no embargo and drops the entry.
      await guardRedis(() => this.#redis.zadd(embargoDueKey(this.#options.keyPrefix), embargoMs, story));
    }
    if (meta.embargoUntil === null) absent.push('embargoUntil', 'embargoMs');
    await this.#writeMeta(story, 'replace', '', auditRecordOpening(publisher, 'replace'), present, absent);
    const [visibility, embargoUntil] = await guardRedis(() => this.#redis.hmget(keys.meta, 'visibility', 'embargoUntil'));
    await this.#index.record(story, Date.now());
    return { visibility: visibility === 'private' ? 'private' : 'public', embargoUntil: embargoUntil ?? null };
  }

  /** Embargoed stories due at `nowMs` (embargo time at or before it), oldest first, at most `limit`, with their scheduled time. */
  async dueEmbargoes(nowMs: number, limit: number): Promise<{ story: string; dueMs: number }[]> {
    const reply = await guardRedis(() => this.#redis.zrangebyscore(embargoDueKey(this.#options.keyPrefix), '-inf', nowMs, 'WITHSCORES', 'LIMIT', 0, limit));
    const due: { story: string; dueMs: number }[] = [];
    for (let i = 0; i < reply.length; i += 2) due.push({ story: reply[i]!, dueMs: Number(reply[i + 1]) });
    return due;
  }

  /**
   * The embargo switch: makes `story` public if it is still embargoed and due at `nowMs`, claimed atomically in
   * the story's slot (release-embargo.lua), so it happens once whichever nodes try. Like every metadata write it
   * bumps `version`. Resolves "released", "none" (no embargo left) or "not_due" (moved later).
   *
   * Hook: the story-change entry that metadata writes append to the stream (newsroom-live) belongs in
   * release-embargo.lua, in the same atomic step, so that subscribers learn of the switch live exactly once.
   */
  async releaseEmbargo(story: string, nowMs: number): Promise<'released' | 'none' | 'not_due'> {
    const keys = storyKeys(this.#options.keyPrefix, story);
    const code = Number(await guardRedis(() => this.#scripts.releaseEmbargo([keys.meta, keys.updates, keys.channel], [nowMs, this.#options.streamMaxLen])));
    if (code === 1) await this.#index.record(story, nowMs);
    return code === 1 ? 'released' : code === 0 ? 'none' : 'not_due';
  }

  /** Drops `story` from the embargo due set if it is still scheduled at `dueMs` (a newer embargo stays). */
  async forgetEmbargo(story: string, dueMs: number): Promise<void> {
    await guardRedis(() => this.#scripts.forgetEmbargo([embargoDueKey(this.#options.keyPrefix)], [story, dueMs]));
  }

  /**
   * Sets or clears an update's key-event and pinned flags after publishing: a story-change entry in the stream,
   * folded into the view like a correction. Pinning an update unpins the one pinned before (one per story);
   * unpinning an update that is not the pinned one changes nothing but is still recorded. Throws
   * `target_not_found` when `id` is not in the stream, `not_flaggable` when it is a correction or a story change.
   */
  async setFlags(story: string, id: string, flags: UpdateFlagsInput, publisher: string | null = null): Promise<StoryChangeResult> {
    const keys = storyKeys(this.#options.keyPrefix, story);
    const flag = (value: boolean | undefined): string => (value === undefined ? '' : value ? '1' : '0');
    const reply = (await guardRedis(() =>
      this.#scripts.appendStoryChange([keys.updates, keys.meta, keys.channel, keys.audit], [this.#options.streamMaxLen, id, flag(flags.key), flag(flags.pinned), auditRecordOpening(publisher, 'flag', { target: id })]),
    )) as [number, string?, string?];
    if (reply[0] === -1) throw new StoppressError('target_not_found', `"${id}" is not an update of story "${story}"`);
    if (reply[0] === -2) throw new StoppressError('not_flaggable', `"${id}" is a correction or a story change: only statements and reactions carry flags`);
    return storyChangeResult(story, reply as [number, string, string]);
  }

  /**
   * Creates a story's metadata unless the story exists (its meta hash or its stream): then nothing is written and
   * the existing metadata is answered. The check, the write and the audit record are one script call.
   */
  async createStory(story: string, meta: StoryMetaInput, publisher: string | null = null): Promise<{ created: true; version: number } | { created: false; existing: StoryMeta }> {
    const present = storyMetaFields.flatMap((f) => (meta[f] === undefined ? [] : [[f, meta[f]] as [string, string]]));
    const reply = await this.#writeMeta(story, 'create', '', auditRecordOpening(publisher, 'create'), present, []);
    if (reply[0] === -1) {
      const flat = reply.slice(1) as string[];
      const hash: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) hash[flat[i]!] = flat[i + 1]!;
      return { created: false, existing: pickMeta(hash) };
    }
    await this.#index.record(story, Date.now());
    return { created: true, version: Number(reply[1]) };
  }

  /**
   * Changes only the fields named (`null` removes an optional one). `check` sees the merged metadata before it is
   * written and throws to refuse it. With `ifVersion`, the write happens only while the metadata version is still
   * that one (`precondition_failed` otherwise); without it, a version that moves between the read and the write
   * (a concurrent metadata write) makes it read and merge again. The version check, the write and the audit
   * record are one script call: of concurrent patches based on one version, exactly one is written.
   * Throws `not_found` when the story does not exist.
   */
  async patchMeta(
    story: string,
    changes: Partial<Record<MetaField, string | null>>,
    options: { publisher?: string | null; ifVersion?: number; check?: (merged: StoryMeta) => void } = {},
  ): Promise<{ meta: StoryMeta; version: number }> {
    for (let attempt = 0; ; attempt += 1) {
      const current = await this.readMeta(story);
      if (!current.exists) throw new StoppressError('not_found', `story "${story}" does not exist: create it with POST /v1/stories`);
      if (options.ifVersion !== undefined && options.ifVersion !== current.version) throw staleMeta(story, current.meta);
      const merged: Record<string, string> = { ...current.meta };
      for (const f of metaFields) {
        const value = changes[f];
        if (value === null) delete merged[f];
        else if (value !== undefined) merged[f] = value;
      }
      options.check?.(merged as StoryMeta);
      const present = metaFields.flatMap((f) => (typeof changes[f] === 'string' ? [[f, changes[f]] as [string, string]] : []));
      const absent = metaFields.filter((f) => changes[f] === null);
      const reply = await this.#writeMeta(story, 'patch', String(current.version), auditRecordOpening(options.publisher ?? null, 'edit'), present, absent);
      if (reply[0] === -2) throw new StoppressError('not_found', `story "${story}" does not exist: create it with POST /v1/stories`);
      if (reply[0] === -3) {
        if (options.ifVersion !== undefined || attempt >= 4) throw staleMeta(story, (await this.readMeta(story)).meta);
        continue;
      }
      await this.#index.record(story, Date.now());
      return { meta: merged as StoryMeta, version: Number(reply[1]) };
    }
  }

  /** A story's metadata fields and version, and whether the story exists (meta hash or stream), in one MULTI. */
  async readMeta(story: string): Promise<{ exists: boolean; meta: StoryMeta; version: number }> {
    const keys = storyKeys(this.#options.keyPrefix, story);
    const [hash, streamExists] = await guardRedis(async () => {
      const replies = await this.#redis.multi().hgetall(keys.meta).exists(keys.updates).exec();
      if (!replies) throw new Error('MULTI aborted');
      for (const [error] of replies) if (error) throw error;
      return [replies[0]![1] as Record<string, string>, replies[1]![1] as number] as const;
    });
    return { exists: Object.keys(hash).length > 0 || streamExists === 1, meta: pickMeta(hash), version: Number(hash.version ?? 0) };
  }

  /** Audit records after `after` (exclusive; from the first when undefined), oldest first, at most `limit`. */
  async readAudit(story: string, after: string | undefined, limit: number): Promise<AuditPage> {
    if (after === maxUpdateId) return { records: [], nextAfter: after };
    const key = storyKeys(this.#options.keyPrefix, story).audit;
    const reply = await guardRedis(() => this.#redis.xrange(key, rangeStart(after), '+', 'COUNT', limit));
    const records = reply.map(([id, fields]) => auditRecordOf(id, fields));
    return { records, nextAfter: records.at(-1)?.id ?? after ?? null };
  }

  /** Runs write-meta.lua (see its header for the modes and replies). */
  async #writeMeta(story: string, mode: 'create' | 'patch' | 'replace', expectedVersion: string, audit: string, present: [string, string][], absent: readonly string[]): Promise<(number | string)[]> {
    const keys = storyKeys(this.#options.keyPrefix, story);
    return (await guardRedis(() =>
      this.#scripts.writeMeta([keys.meta, keys.updates, keys.audit, keys.channel], [mode, expectedVersion, audit, this.#options.streamMaxLen, present.length, ...present.flat(), ...absent]),
    )) as (number | string)[];
  }

  /** Stories, most recently updated first. Reads the index, never scans keys. */
  async listStories(limit = 200): Promise<StorySummary[]> {
    const indexKey = storyIndexKey(this.#options.keyPrefix);
    const ranked = await guardRedis(() => this.#redis.zrevrange(indexKey, 0, limit - 1, 'WITHSCORES'));
    const stories: { story: string; score: number }[] = [];
    for (let i = 0; i < ranked.length; i += 2) stories.push({ story: ranked[i]!, score: Number(ranked[i + 1]) });
    const metas = await guardRedis(() =>
      Promise.all(
        stories.map(({ story }) => this.#redis.hmget(storyKeys(this.#options.keyPrefix, story).meta, 'title', 'status', 'lastId', 'count', 'visibility', 'embargoUntil')),
      ),
    );
    return stories.map(({ story, score }, i) => {
      const [title, status, lastId, count, visibility, embargoUntil] = metas[i]!;
      return {
        story,
        title: title ?? null,
        status: status === 'live' || status === 'ended' ? status : null,
        lastId: lastId ?? null,
        updatedAt: new Date(score).toISOString(),
        count: Number(count ?? 0),
        ...(visibility === 'private' || visibility === 'public' ? { visibility } : {}),
        ...(embargoUntil ? { embargoUntil } : {}),
      };
    });
  }

  /** Deletes every key of a story and its index entry (tests and the demo loader use it). */
  async deleteStory(story: string): Promise<void> {
    const keys = storyKeys(this.#options.keyPrefix, story);
    await guardRedis(async () => {
      await this.#redis.del(keys.updates, keys.meta, keys.audit);
      await this.#redis.zrem(storyIndexKey(this.#options.keyPrefix), story);
      await this.#redis.zrem(embargoDueKey(this.#options.keyPrefix), story);
    });
  }
}

/**
 * The served JSON of an update, built from its stored JSON without parsing it: `{"id","story","publishedAt",...stored}`.
 * The live path serialises each entry once with this and sends the same bytes to every subscriber.
 */
export function updateJson(story: string, id: string, data: string): string {
  return `{"id":"${id}","story":"${story}","publishedAt":"${publishedAtOf(id)}",${data.slice(1)}`;
}

/** Reads the `d` field of a stream entry's flat field list. */
export function dataField(fields: readonly string[]): string {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === 'd') return fields[i + 1] ?? '{}';
  return '{}';
}

/**
 * The XRANGE start for entries after `after` (exclusive). The caller answers "nothing" for the largest id
 * without asking: nothing can follow it, and Redis refuses an exclusive range that starts there.
 */
function rangeStart(after: string | undefined): string {
  return after === undefined ? '-' : `(${after}`;
}

const emptyObject = Buffer.from('{}');

function dataFieldBytes(fields: readonly Buffer[]): Buffer {
  for (let i = 0; i < fields.length; i += 2) if (fields[i]!.length === 1 && fields[i]![0] === 0x64 /* d */) return fields[i + 1] ?? emptyObject;
  return emptyObject;
}

function parseUpdate(story: string, entry: StoredEntry): StreamEntry {
  return JSON.parse(updateJson(story, entry.id, entry.data)) as StreamEntry;
}

/** True when a stored entry's JSON is a story change (`{"kind":"story",...`): a prefix check, no parsing. */
export function isStoryChangeData(data: string): boolean {
  return data.startsWith(storyChangePrefix);
}

const storyMetaFields: readonly StoryMetaField[] = ['title', 'summary', 'status', 'coverageStartTime', 'coverageEndTime'];

function storyChangeResult(story: string, [, id, json]: [number, string, string]): StoryChangeResult {
  return { id, change: JSON.parse(updateJson(story, id, json)) as StoryChange };
}

function stampOf(lastId: string | null, meta: Record<string, string>): StoryStamp {
  return { lastId, version: Number(meta.version ?? 0), status: meta.status ?? null, visibility: meta.visibility ?? null, embargoUntil: meta.embargoUntil ?? null };
}

function msOf(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

/** A metadata field's name; the list is `metaFields`, the one place a new field is added. */
export type MetaField = (typeof metaFields)[number];
/** The metadata fields a story has set. */
export type StoryMeta = Partial<Pick<StoryView, MetaField>>;
export { metaFields };

/** `precondition_failed`, carrying the story's current metadata. */
function staleMeta(story: string, meta: StoryMeta): StoppressError {
  return new StoppressError('precondition_failed', `someone else changed story "${story}" since you loaded it: reload it and make your change again`, undefined, { story: { story, ...meta } });
}

function pickMeta(meta: Record<string, string>): Partial<Pick<StoryView, (typeof metaFields)[number]>> {
  const picked: Record<string, string> = {};
  for (const f of metaFields) if (meta[f] !== undefined) picked[f] = meta[f];
  return picked as Partial<Pick<StoryView, (typeof metaFields)[number]>>;
}
