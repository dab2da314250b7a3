import type { Logger } from 'pino';
import type { RedisClient } from './redis-client.js';

/**
 * Logs a Redis connection's outages as two lines: a warning once when it is lost (with the error that ended it)
 * and one line when it is back (with how long it was down). The errors of every retry in between go to debug: a
 * Redis that is down for a minute must not write a warning per retry.
 *
 * @param what names the connection in the lines ("redis connection lost").
 */
export function logConnectionOutages(redis: RedisClient, log: Logger, what: string): void {
  let wasReady = redis.status === 'ready';
  let downSince: number | undefined;
  let lastError: string | undefined;
  redis.on('error', (error: Error) => {
    lastError = error.message;
    log.debug({ err: error.message }, `${what} error`);
  });
  redis.on('close', () => {
    if (!wasReady || downSince !== undefined) return;
    downSince = Date.now();
    log.warn({ err: lastError }, `${what} lost; reconnecting`);
  });
  redis.on('ready', () => {
    wasReady = true;
    lastError = undefined;
    if (downSince === undefined) return;
    log.info({ downForMs: Date.now() - downSince }, `${what} back`);
    downSince = undefined;
  });
}
