import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalogue, StoppressError, type ErrorCode } from '../src/protocol/errors.js';

const readmeUrl = new URL('../README.md', import.meta.url);
const readme = existsSync(readmeUrl) ? readFileSync(readmeUrl, 'utf8') : '';
const codes = Object.keys(errorCatalogue) as ErrorCode[];

describe('error catalogue', () => {
  it.each(codes)('documents `%s` in the README', (code) => {
    expect(readme, 'README.md is missing').not.toBe('');
    expect(readme.includes(`\`${code}\``), `README.md does not mention \`${code}\``).toBe(true);
  });

  it.each(codes)('gives %s an HTTP status and a one-line meaning, carried by StoppressError', (code) => {
    const { status, meaning } = errorCatalogue[code];
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(600);
    expect(meaning).not.toMatch(/\n/);
    const error = new StoppressError(code, 'why');
    expect(error.status).toBe(status);
    expect(error.toBody()).toEqual({ error: { code, message: 'why' } });
  });
});
