/**
 * The desk's "published by / corrected by" line on each update, from the story's audit trail
 * (`GET /v1/stories/:story/audit`, publishers only). Readers never see these names.
 */
import type { AuditPage } from '../../protocol/audit.js';
import { escapeHtml } from '../escape.js';
import { callApi } from './desk-api.js';

/** Who published an update and who corrected or withdrew it, in order. */
export interface UpdateAudit {
  publishedBy?: string | null;
  correctedBy: { name: string | null; retract: boolean }[];
}

/** A publisher as the desk names it: anonymous keys have no name. */
function who(name: string | null): string {
  return name ?? 'an anonymous key';
}

/** Reads a story's whole audit trail (page by page) into update id → who did what. */
export async function loadUpdateAudit(story: string, key: string): Promise<Map<string, UpdateAudit>> {
  const byUpdate = new Map<string, UpdateAudit>();
  const entry = (id: string): UpdateAudit => {
    let found = byUpdate.get(id);
    if (!found) byUpdate.set(id, (found = { correctedBy: [] }));
    return found;
  };
  let after: string | null = null;
  for (let page = 0; page < 100; page += 1) {
    const query: string = after === null ? '?limit=1000' : `?limit=1000&after=${encodeURIComponent(after)}`;
    const { body }: { body: AuditPage } = await callApi<AuditPage>('GET', `/v1/stories/${encodeURIComponent(story)}/audit${query}`, { key });
    for (const record of body.records) {
      if (record.action === 'publish' && record.update) entry(record.update).publishedBy = record.publisher;
      else if ((record.action === 'correct' || record.action === 'retract') && record.target) {
        entry(record.target).correctedBy.push({ name: record.publisher, retract: record.action === 'retract' });
      }
    }
    if (body.records.length < 1000 || body.nextAfter === null) break;
    after = body.nextAfter;
  }
  return byUpdate;
}

/** The line shown under an update's header on the desk: "published by anna · corrected by desk-bot". */
export function auditLineHtml(audit: UpdateAudit | undefined): string {
  if (!audit) return '';
  const parts = [
    ...(audit.publishedBy !== undefined ? [`published by ${escapeHtml(who(audit.publishedBy))}`] : []),
    ...audit.correctedBy.map((c) => `${c.retract ? 'withdrawn' : 'corrected'} by ${escapeHtml(who(c.name))}`),
  ];
  return parts.length === 0 ? '' : `<span class="audit-line">${parts.join(' · ')}</span>`;
}
