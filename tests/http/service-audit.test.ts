import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceAuditPage } from '../../src/protocol/audit.js';
import type { RunningService } from '../../src/service.js';
import { deletePrefix, readAnswer, startTestService, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('service-audit');
const annaKey = 'anna-key-0123456789';
let service: RunningService;

beforeAll(async () => {
  service = await startTestService(prefix, {
    PUBLISHERS: `anna:${annaKey}`,
    SUBSCRIBER_TOKEN_SECRET: 'a-subscriber-token-secret-of-32-bytes-or-more',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'on',
  });
});
afterAll(async () => {
  await service.stop();
  await deletePrefix(prefix);
});

async function call(method: string, path: string, key: string | undefined, body?: unknown): Promise<{ status: number; body: any; text: string }> {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return readAnswer(response);
}

describe('the service audit trail', () => {
  it('records who minted a token and who registered, re-enabled and deleted a webhook, never a token or a secret', async () => {
    const minted = await call('POST', '/v1/tokens', annaKey, { sub: 'partner-a', stories: ['election-*'], ttlSeconds: 600 });
    expect(minted.status).toBe(201);
    const hook = await call('POST', '/v1/webhooks', annaKey, { url: 'http://127.0.0.1:9/hook', stories: ['election-*'] });
    expect(hook.status).toBe(201);
    expect((await call('POST', `/v1/webhooks/${hook.body.id}/enable`, annaKey)).status).toBe(200);
    expect((await call('DELETE', `/v1/webhooks/${hook.body.id}`, annaKey)).status).toBe(204);

    const audit = await call('GET', '/v1/audit', annaKey);
    expect(audit.status).toBe(200);
    const { records } = ServiceAuditPage.parse(audit.body);
    expect(records.map(({ publisher, action, sub, webhook, stories }) => ({ publisher, action, sub, webhook, stories }))).toEqual([
      { publisher: 'anna', action: 'mint_token', sub: 'partner-a', webhook: undefined, stories: ['election-*'] },
      { publisher: 'anna', action: 'register_webhook', sub: undefined, webhook: hook.body.id, stories: ['election-*'] },
      { publisher: 'anna', action: 'enable_webhook', sub: undefined, webhook: hook.body.id, stories: undefined },
      { publisher: 'anna', action: 'delete_webhook', sub: undefined, webhook: hook.body.id, stories: undefined },
    ]);
    expect(records[0]!.expiresAt).toBe(minted.body.expiresAt);
    expect(audit.text).not.toContain(minted.body.token);
    expect(audit.text).not.toContain(hook.body.secret);
    // Paged like the story audit.
    const rest = await call('GET', `/v1/audit?after=${records[1]!.id}&limit=1`, annaKey);
    expect(ServiceAuditPage.parse(rest.body).records.map((r) => r.action)).toEqual(['enable_webhook']);
  });

  it('is for publishers only', async () => {
    expect((await call('GET', '/v1/audit', undefined)).status).toBe(401);
    expect((await call('GET', '/v1/audit', 'not-a-publisher-key')).status).toBe(401);
  });
});
