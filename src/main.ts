import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { NoRedisError, redisAnswers, startPrivateRedis, type PrivateRedis } from './private-redis.js';
import { startService } from './service.js';

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

  let service;
  try {
    service = await startService(config, logger);
  } catch (error) {
    await privateRedis?.stop();
    const reason = error instanceof Error ? error.message : String(error);
    fail(`stoppress: could not start: ${reason}${/ECONNREFUSED|ETIMEDOUT|ENOTFOUND/.test(reason) ? ` (is Redis running at ${config.redisUrl}?)` : ''}`);
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
