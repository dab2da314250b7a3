import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { guardedLookup, isForbiddenAddress } from './address-guard.js';

/** The outcome of one delivery attempt. */
export type PostOutcome = { ok: true; status: number } | { ok: false; reason: string };

export interface PostOptions {
  timeoutMs: number;
  allowPrivate: boolean;
}

const maxResponseBytes = 64 * 1024;

/**
 * POSTs one signed body. A 2xx within `timeoutMs` (headers and body) is success; anything else (another status,
 * a timeout, a refused or non-public address, a network error) is a failure with a short reason. The connection
 * goes to the address the guard checked (see guardedLookup); redirects are not followed.
 */
export function postWebhook(url: string, headers: Record<string, string>, body: string, options: PostOptions): Promise<PostOutcome> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (!options.allowPrivate && isIP(host) !== 0 && isForbiddenAddress(host)) {
    return Promise.resolve({ ok: false, reason: `${target.hostname} is a non-public address` });
  }
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: PostOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const request = send(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'Stoppress-Webhooks/1' },
        lookup: guardedLookup(options.allowPrivate),
        agent: false,
      },
      (response) => {
        const status = response.statusCode ?? 0;
        let received = 0;
        // Read (and drop) the answer so the attempt ends when the endpoint is done; an endless body is cut off.
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > maxResponseBytes) response.destroy();
        });
        const done = (): void => finish(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, reason: `HTTP ${status}` });
        response.on('end', done);
        response.on('close', done);
        response.on('error', done);
      },
    );
    const timer = setTimeout(() => {
      finish({ ok: false, reason: `no answer within ${options.timeoutMs} ms` });
      request.destroy();
    }, options.timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, reason: error.code ? `${error.code}: ${error.message}` : error.message }));
    request.end(body);
  });
}
