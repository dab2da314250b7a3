/** How reconnect delays grow. */
export interface BackoffOptions {
  /**
   * Upper bound of the first retry's delay; each further failed attempt multiplies the bound by `factor`.
   * @default 250
   */
  minDelayMs: number;
  /** Ceiling of the bound, however many attempts failed. @default 15000 */
  maxDelayMs: number;
  /** Growth of the bound per failed attempt. @default 2 */
  factor: number;
}

export const defaultBackoff: Readonly<BackoffOptions> = Object.freeze({ minDelayMs: 250, maxDelayMs: 15_000, factor: 2 });

/**
 * Exponential backoff with full jitter: a uniform draw in `[0, min(maxDelayMs, minDelayMs · factor^attempt)]`.
 * Full jitter spreads the reconnects of thousands of readers dropped by the same restart over the whole
 * window instead of bunching them at its edge. Pure: `random` is injectable (it returns a number in [0, 1)).
 *
 * @param attempt failed attempts so far, from 0.
 * @returns whole milliseconds to wait before the next attempt.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = defaultBackoff, random: () => number = Math.random): number {
  const bound = Math.min(options.maxDelayMs, options.minDelayMs * options.factor ** Math.max(0, attempt));
  const draw = Math.min(Math.max(random(), 0), 1);
  return Math.floor(bound * draw);
}

/** Throws a RangeError naming the first option that cannot work. */
export function checkBackoff(options: BackoffOptions): void {
  if (!(options.minDelayMs > 0)) throw new RangeError(`minDelayMs must be above 0 (got ${options.minDelayMs})`);
  if (!(options.maxDelayMs >= options.minDelayMs)) throw new RangeError(`maxDelayMs must be at least minDelayMs (got ${options.maxDelayMs})`);
  if (!(options.factor >= 1)) throw new RangeError(`factor must be at least 1 (got ${options.factor})`);
}
