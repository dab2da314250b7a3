import type { z } from 'zod';
import { StoppressError, type ErrorCode, type ErrorIssue } from '../protocol/errors.js';
import { StoryId, updateIdProblem } from '../protocol/update.js';

/** Turns zod issues into `{ path, message }` pairs, paths dotted (`source.name`). */
export function toIssues(error: z.ZodError): ErrorIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : undefined;
    return { path, message: keys ? `unknown field${keys.length > 1 ? 's' : ''}: ${keys.join(', ')}` : issue.message };
  });
}

/** Parses `value` with `schema` or throws `code` (400) listing every issue. Validation happens at the edges only. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string, code: ErrorCode = 'validation_failed'): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = toIssues(result.error);
  const first = issues[0];
  const summary = first ? `${first.path ? `${first.path}: ` : ''}${first.message}` : 'invalid';
  throw new StoppressError(code, `${what} is invalid: ${summary}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`, issues);
}

/** A story id from the URL, checked before Redis is touched. */
export function parseStoryId(value: unknown): string {
  const result = StoryId.safeParse(value);
  if (!result.success) {
    throw new StoppressError('invalid_story_id', `story id ${JSON.stringify(value)} is invalid: use 1-64 of a-z, 0-9 and "-", not starting with "-"`);
  }
  return result.data;
}

/** An update id from a query string: `invalid_update_id` (400) saying why, before Redis is touched. */
export function parseUpdateId(value: unknown, field: string): string {
  const problem = typeof value === 'string' ? updateIdProblem(value) : 'give it once, as a string';
  if (problem !== undefined) throw new StoppressError('invalid_update_id', `${field} ${JSON.stringify(value)} is not an update id: ${problem}`);
  return value as string;
}
