import { z } from 'zod';
import { UpdateId } from './update.js';

/**
 * What a write did, as the audit trail records it:
 * - `publish`: a statement or reaction was appended (`update` is its id);
 * - `correct` / `retract`: a correction replaced / withdrew an update (`update` is the correction, `target` the
 *   update it corrects);
 * - `create` (`POST /v1/stories`), `edit` (`PATCH`), `replace` (`PUT`): a metadata write (`fields` lists the
 *   metadata fields whose value it changed, `version` is the metadata version it produced).
 */
export const AuditAction = z.enum(['publish', 'correct', 'retract', 'create', 'edit', 'replace', 'flag']);

/**
 * What a write that belongs to no one story did, as the service audit trail (`GET /v1/audit`) records it:
 * `mint_token` (`POST /v1/tokens`: `sub`, `stories`, `expiresAt`), `register_webhook`, `delete_webhook`,
 * `enable_webhook` (`webhook` is its id; `url` and `stories` on registration).
 */
export const ServiceAuditAction = z.enum(['mint_token', 'register_webhook', 'delete_webhook', 'enable_webhook']);
export type ServiceAuditAction = z.infer<typeof ServiceAuditAction>;

/** One record of the service audit trail: who made a token or webhook write, and what it was (never a secret or a token). */
export const ServiceAuditRecord = z.object({
  id: UpdateId,
  at: z.iso.datetime(),
  publisher: z.string().nullable(),
  action: ServiceAuditAction,
  sub: z.string().optional(),
  stories: z.array(z.string()).optional(),
  expiresAt: z.string().optional(),
  webhook: z.string().optional(),
  url: z.string().optional(),
});
export type ServiceAuditRecord = z.infer<typeof ServiceAuditRecord>;

/** `GET /v1/audit`: records oldest first, and the cursor (`after`) of the next page. */
export const ServiceAuditPage = z.object({
  records: z.array(ServiceAuditRecord),
  nextAfter: UpdateId.nullable(),
});
export type ServiceAuditPage = z.infer<typeof ServiceAuditPage>;
export type AuditAction = z.infer<typeof AuditAction>;

/**
 * One record of a story's audit trail (`GET /v1/stories/:story/audit`, publishers only). `publisher` is the name
 * of the PUBLISHERS key that made the write, or null for an anonymous PUBLISHER_KEYS key. `id` is the record's
 * own id (the audit stream's entry id, the cursor for `after`); `at` is when it was written.
 */
export const AuditRecord = z.object({
  id: UpdateId,
  at: z.iso.datetime(),
  publisher: z.string().nullable(),
  action: AuditAction,
  update: UpdateId.optional(),
  target: UpdateId.optional(),
  fields: z.array(z.string()).optional(),
  /** `flag`: the flags set (`true`) or cleared (`false`) on `target`. */
  flags: z.object({ key: z.boolean().optional(), pinned: z.boolean().optional() }).optional(),
  version: z.number().int().positive().optional(),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

/** `GET /v1/stories/:story/audit`: records oldest first, and the cursor (`after`) of the next page. */
export const AuditPage = z.object({
  records: z.array(AuditRecord),
  nextAfter: UpdateId.nullable(),
});
export type AuditPage = z.infer<typeof AuditPage>;
