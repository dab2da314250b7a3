import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * The one root logger. Modules take `logger.child({ component })`. Secrets never reach a log line:
 * the redaction below is a second line of defence behind not logging headers at all. Logs go to stdout
 * unless a destination is given (tests read them).
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'stoppress' },
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'publisherKeys', 'publishers'], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
