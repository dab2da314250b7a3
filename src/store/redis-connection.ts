import { Redis, ReplyError, type RedisOptions } from 'ioredis';
import type { RedisClient } from './redis-client.js';
import { StoppressError } from '../protocol/errors.js';

/**
 * How long one guarded Redis call may take before the request fails with 503 (the API promises an answer
 * within 2 s of a request's arrival; the rest is margin for a busy event loop).
 */
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

/** Thrown when the service cannot reach its Redis at start; names the Redis (without credentials) and why. */
export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
  /** The Redis (URL or cluster seeds) without credentials. */
  readonly redis: string;
  /** @param redis the Redis as it may be shown (Config.redisForLogs: no credentials). */
  constructor(redis: string, reason: string) {
    super(`could not reach Redis at ${redis}: ${reason}`);
    this.redis = redis;
  }
}

/**
 * Waits for a connection to be ready, connecting it if it was created lazily. Rejects with the underlying
 * connection error (`connect ECONNREFUSED 127.0.0.1:6379`) rather than ioredis's `Connection is closed.`,
 * which only says that it gave up.
 */
export async function connectRedis(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') return;
  let lastError: Error | undefined;
  const redisOnError = (error: Error): void => {
    lastError = error;
  };
  redis.on('error', redisOnError);
  try {
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
  } catch (error) {
    throw lastError ?? error;
  } finally {
    redis.off('error', redisOnError);
  }
}

/**
 * Runs a Redis call and turns an unreachable or slow Redis into `redis_unavailable` (503). Errors that Redis
 * itself answered (ReplyError) are bugs, not outages, and pass through.
 *
 * The call gets `timeoutMs` from the moment guardRedis is called, whatever ioredis does with it. ioredis's own
 * `commandTimeout` is not enough on its own: with auto-pipelining, commands issued while a pipeline is in flight
 * are queued and only sent (and their timers only started) once that pipeline settles, so behind a stalled
 * pipeline a command waited 1.5 s + 1.5 s. A call that loses the race may still reach Redis and run (an append
 * may land): the message tells the client to retry with the same Idempotency-Key, which stores it once.
 */
export function guardRedis<T>(call: () => Promise<T>, timeoutMs: number = commandTimeoutMs): Promise<T> {
  // One promise and one timer per call, settled by whichever comes first (this runs for every command of every
  // request: no Promise.race, no async frame). A call that settles after the deadline answered changes nothing,
  // and its failure is handled here, so it never goes unhandled.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(redisUnavailable()), timeoutMs);
    const fail = (error: unknown): void => {
      clearTimeout(timer);
      reject(error instanceof StoppressError || error instanceof ReplyError ? error : redisUnavailable());
    };
    try {
      call().then((value) => {
        clearTimeout(timer);
        resolve(value);
      }, fail);
    } catch (error) {
      fail(error);
    }
  });
}

function redisUnavailable(): StoppressError {
  return new StoppressError('redis_unavailable', 'Redis is unreachable or did not answer in time: retry with the same Idempotency-Key, which stores the update at most once');
}
