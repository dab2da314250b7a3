import { pino, type Logger } from 'pino';

/**
 * The one root logger. Modules take `logger.child({ component })`. Secrets never reach a log line:
 * the redaction below is a second line of defence behind not logging headers at all.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'stoppress' },
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'publisherKeys'], censor: '[redacted]' },
  });
}

export type { Logger };
