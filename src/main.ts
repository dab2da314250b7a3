import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { NoRedisError, redisAnswers, startPrivateRedis, type PrivateRedis } from './private-redis.js';
import { startService } from './service.js';
import { RedisUnreachableError } from './store/redis-connection.js';

/**
 * The process: reads the environment, makes sure a Redis is there (starting a private one for `npm start`
 * when REDIS_URL is unset and nothing answers on 127.0.0.1:6379), starts the service and stops it in order on
 * SIGTERM/SIGINT. Start-up problems are one line on stderr, never a stack trace.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(`stoppress: invalid configuration: ${error.message}`);
    throw error;
  }
  const logger = createLogger(config.logLevel);

  let privateRedis: PrivateRedis | undefined;
  if (!config.redisUrlGiven && !(await redisAnswers('127.0.0.1', 6379))) {
    try {
      privateRedis = await startPrivateRedis(6379, '.data/redis', logger);
    } catch (error) {
      if (error instanceof NoRedisError) fail(`stoppress: ${error.message}`);
      throw error;
    }
  }

  // Say which Redis this run writes to: with no REDIS_URL, `npm start` uses whatever answers on 127.0.0.1:6379.
  const redis = config.redisForLogs;
  const mode = config.redisCluster ? 'cluster' : 'single';
  if (privateRedis) logger.info({ redis, mode, private: true }, 'using a private redis-server started for this run (REDIS_URL is unset and nothing answered on 127.0.0.1:6379)');
  else if (config.redisCluster) logger.info({ redis, mode, private: false }, 'using the Redis Cluster named by REDIS_CLUSTER_NODES');
  else if (config.redisUrlGiven) logger.info({ redis, mode, private: false }, 'using the Redis named by REDIS_URL');
  else logger.info({ redis, mode, private: false }, 'using the Redis already running on 127.0.0.1:6379 (REDIS_URL is unset); its data is shared with whatever else uses it');

  let service;
  try {
    service = await startService(config, logger);
  } catch (error) {
    await privateRedis?.stop();
    if (error instanceof RedisUnreachableError) {
      fail(
        `stoppress: ${error.message}. ` +
          (config.redisCluster
            ? 'Check that the cluster nodes in REDIS_CLUSTER_NODES run and are reachable from here.'
            : config.redisUrlGiven
            ? 'Start Redis there, or set REDIS_URL to a Redis that runs (unset it and `npm start` starts a private redis-server).'
            : 'Start Redis on 127.0.0.1:6379, or set REDIS_URL to a Redis that runs.'),
      );
    }
    fail(`stoppress: could not start: ${error instanceof Error ? error.message : String(error)}`);
  }

  if (config.generatedPublisherKey) {
    process.stderr.write(
      `\nNo PUBLISHER_KEYS set: this run accepts the development key\n  ${config.generatedPublisherKey}\n` +
        `Try: curl -X POST ${service.url}/v1/stories/my-story/updates -H 'Authorization: Bearer ${config.generatedPublisherKey}' -H 'Content-Type: application/json' -d '{"kind":"statement","occurredAt":"${new Date().toISOString()}","text":"Hello"}'\n\n`,
    );
  }

  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    service
      .stop()
      .then(() => privateRedis?.stop())
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

function fail(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

void main();
