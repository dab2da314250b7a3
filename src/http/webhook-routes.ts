import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { StoppressError } from '../protocol/errors.js';
import { WebhookInput, type Webhook } from '../protocol/webhooks.js';
import type { StoredWebhook, WebhookStore } from '../store/webhook-store.js';
import { checkWebhookUrl } from '../webhooks/address-guard.js';
import { generateSecret } from '../webhooks/signing.js';
import type { ServiceAudit } from '../store/service-audit.js';
import type { PublisherIdentity } from './publisher-auth.js';
import { parseOrThrow } from './validate.js';

export interface WebhookRoutesOptions {
  webhooks: WebhookStore;
  /** Throws `unauthorized` unless the Authorization header carries a publisher key; answers whose key it is. */
  authorize: (authorization: string | undefined) => PublisherIdentity;
  /** Where registrations, deletions and re-enables are recorded with who made them (never the secret). */
  audit: ServiceAudit;
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS. */
  allowPrivateNetworks: boolean;
  /** Tells this node's dispatcher the registry changed (it reloads and looks for work). */
  registryChanged: () => void;
}

const webhookIdPattern = /^wh_[0-9a-f]{20}$/;

/**
 * Publisher routes managing partner webhooks: register (the secret is shown once), list, show, delete,
 * re-enable. A URL is refused (`url_not_allowed`) when its host is or resolves to a non-public address.
 */
export async function webhookRoutes(app: FastifyInstance, options: WebhookRoutesOptions): Promise<void> {
  const { webhooks, authorize, audit, allowPrivateNetworks, registryChanged } = options;
  const publisherOf = (authorization: string | undefined): string | null => authorize(authorization).name;
  app.addHook('onRequest', async (request) => authorize(request.headers.authorization));

  app.post('/v1/webhooks', async (request, reply) => {
    const input = parseOrThrow(WebhookInput, request.body, 'the webhook');
    const refusal = await checkWebhookUrl(input.url, allowPrivateNetworks);
    if (refusal) throw new StoppressError('url_not_allowed', `url: ${refusal}; webhooks only go to public addresses`, [{ path: 'url', message: refusal }]);
    const nowMs = await webhooks.redisTimeMs();
    const stored: StoredWebhook = {
      id: `wh_${randomBytes(10).toString('hex')}`,
      url: input.url,
      stories: [...new Set(input.stories)],
      createdAt: new Date(nowMs).toISOString(),
      enabled: true,
      secret: input.secret ?? generateSecret(),
      startAfter: `${nowMs}-0`,
      enabledAtMs: 0,
    };
    await webhooks.create(stored);
    await audit.record({ publisher: publisherOf(request.headers.authorization), action: 'register_webhook', webhook: stored.id, url: stored.url, stories: stored.stories });
    registryChanged();
    return reply.code(201).send({ ...publicView(stored), secret: stored.secret });
  });

  app.get('/v1/webhooks', async () => ({ webhooks: (await webhooks.list()).map(publicView) }));

  app.get<{ Params: { id: string } }>('/v1/webhooks/:id', async (request) => publicView(await existing(webhooks, request.params.id)));

  app.delete<{ Params: { id: string } }>('/v1/webhooks/:id', async (request, reply) => {
    if (!webhookIdPattern.test(request.params.id) || !(await webhooks.delete(request.params.id))) throw notFound(request.params.id);
    await audit.record({ publisher: publisherOf(request.headers.authorization), action: 'delete_webhook', webhook: request.params.id });
    registryChanged();
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string } }>('/v1/webhooks/:id/enable', async (request) => {
    const { id } = request.params;
    if (!webhookIdPattern.test(id) || !(await webhooks.setEnabled(id, true, new Date()))) throw notFound(id);
    await audit.record({ publisher: publisherOf(request.headers.authorization), action: 'enable_webhook', webhook: id });
    registryChanged();
    return publicView(await existing(webhooks, id));
  });
}

async function existing(webhooks: WebhookStore, id: string): Promise<StoredWebhook> {
  const found = webhookIdPattern.test(id) ? await webhooks.get(id) : null;
  if (!found) throw notFound(id);
  return found;
}

function notFound(id: string): StoppressError {
  return new StoppressError('not_found', `no webhook ${JSON.stringify(id)}`);
}

/** A webhook as the API shows it: never its secret. */
function publicView(webhook: StoredWebhook): Webhook {
  return {
    id: webhook.id,
    url: webhook.url,
    stories: webhook.stories,
    createdAt: webhook.createdAt,
    enabled: webhook.enabled,
    ...(webhook.disabledAt ? { disabledAt: webhook.disabledAt } : {}),
    ...(webhook.disabledReason ? { disabledReason: webhook.disabledReason } : {}),
  };
}
