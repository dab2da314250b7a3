import type { AuditAction, AuditRecord } from '../protocol/audit.js';
import { publishedAtOf } from '../protocol/ids.js';

/**
 * The opening of an audit record's stored JSON, without its closing brace: the write's script appends what only
 * it knows (the new update id, the changed fields and version) and closes it. Built with JSON.stringify, so a
 * publisher name can never break out of its string.
 */
export function auditRecordOpening(publisher: string | null, action: AuditAction, extra: { target?: string } = {}): string {
  const json = JSON.stringify({ publisher, action, ...extra });
  return json.slice(0, -1);
}

/** An audit stream entry as served: `{ id, at, ...stored }`, `at` being the time in the entry id. */
export function auditRecordOf(id: string, fields: readonly string[]): AuditRecord {
  let data = '{}';
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === 'd') data = fields[i + 1] ?? '{}';
  return { id, at: publishedAtOf(id), ...(JSON.parse(data) as Omit<AuditRecord, 'id' | 'at'>) };
}
