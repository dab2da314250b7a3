import type { ServiceAuditPage, ServiceAuditRecord } from '../protocol/audit.js';
import { maxUpdateId, publishedAtOf } from '../protocol/ids.js';
import { serviceAuditKey } from './keys.js';
import type { RedisClient } from './redis-client.js';
import { guardRedis } from './redis-connection.js';

/** A service audit record as written: everything but the id and time its stream entry gives it. */
export type ServiceAuditEntry = Omit<ServiceAuditRecord, 'id' | 'at'>;

/**
 * The service audit trail: who minted which subscriber token and who registered, deleted or re-enabled which
 * webhook. Those writes belong to no one story, so they are not in a story's audit stream; this stream is
 * never trimmed and never served to readers (`GET /v1/audit` is for publishers).
 */
export class ServiceAudit {
  readonly #redis: RedisClient;
  readonly #key: string;

  constructor(redis: RedisClient, keyPrefix: string) {
    this.#redis = redis;
    this.#key = serviceAuditKey(keyPrefix);
  }

  /** Appends one record. */
  async record(entry: ServiceAuditEntry): Promise<void> {
    await guardRedis(() => this.#redis.xadd(this.#key, '*', 'd', JSON.stringify(entry)));
  }

  /** Records after `after` (exclusive), oldest first, at most `limit`. */
  async read(after: string | undefined, limit: number): Promise<ServiceAuditPage> {
    if (after === maxUpdateId) return { records: [], nextAfter: after };
    const reply = await guardRedis(() => this.#redis.xrange(this.#key, after === undefined ? '-' : `(${after}`, '+', 'COUNT', limit));
    const records = reply.map(([id, fields]) => {
      const data = fields[fields.indexOf('d') + 1] ?? '{}';
      return { id, at: publishedAtOf(id), ...(JSON.parse(data) as ServiceAuditEntry) };
    });
    return { records, nextAfter: records.at(-1)?.id ?? after ?? null };
  }
}
