import { Redis, ReplyError, type RedisOptions } from 'ioredis';
import type { RedisClient } from './redis-client.js';
import { StoppressError } from '../protocol/errors.js';

/** How long a command may wait for Redis before the request fails with 503 (the API promises an answer within 2 s). */
export const commandTimeoutMs = 1_500;

/**
 * Opens the command connection. Commands fail at once while Redis is unreachable (no offline queue) and
 * time out after `commandTimeoutMs`, so an ingest never hangs and never answers 201 for something not stored.
 */
export function createCommandConnection(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    lazyConnect: true,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    ...options,
  });
}

/**
 * Opens a connection for blocking reads (XREAD BLOCK): no command timeout, since a block outlasts it,
 * and an offline queue so the read loop simply waits for the reconnect.
 */
export function createBlockingConnection(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    connectTimeout: 2_000,
    lazyConnect: true,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    ...options,
  });
}

/** Waits for a connection to be ready, connecting it if it was created lazily; rejects with the connection error. */
export async function connectRedis(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') return;
  if (redis.status === 'wait') {
    await redis.connect();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      redis.off('ready', onReady);
      redis.off('error', onError);
    };
    const onReady = (): void => (cleanup(), resolve());
    const onError = (error: Error): void => (cleanup(), reject(error));
    redis.once('ready', onReady);
    redis.once('error', onError);
  });
}

/**
 * Runs a Redis call and turns an unreachable or slow Redis into `redis_unavailable` (503). Errors that Redis
 * itself answered (ReplyError) are bugs, not outages, and pass through.
 */
export async function guardRedis<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof StoppressError || error instanceof ReplyError) throw error;
    throw new StoppressError('redis_unavailable', 'Redis is unreachable or did not answer in time: retry with the same Idempotency-Key, which stores the update at most once');
  }
}
