import { storyIdPattern } from '../protocol/ids.js';

/** Patterns one token may list at most: a token is sent on every request, so its size stays small. */
export const maxStoryPatterns = 100;

/** A prefix pattern: 0-63 story-id characters (not starting with "-") and one final `*`; a bare `*` is every story. */
const prefixPattern = /^(?:[a-z0-9][a-z0-9-]{0,62})?\*$/;

/**
 * Why `pattern` is not a valid entry of a token's `stories` claim, or undefined when it is: an exact story id,
 * or a prefix of one followed by a single `*` (`election-2026-*`; `*` alone covers every story). A `*` anywhere
 * else (`*foo`, `a*b`, `**`) is refused rather than read as a wildcard, so a pattern never covers more than it
 * says.
 */
export function storyPatternProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== 'string') return 'each entry of "stories" is a string';
  if (storyIdPattern.test(pattern) || prefixPattern.test(pattern)) return undefined;
  return `"${pattern.slice(0, 80)}" is neither a story id nor a prefix of one ending in a single "*"`;
}

/** True when one of `patterns` (each valid, see storyPatternProblem) covers `story`. */
export function patternsCover(patterns: readonly string[], story: string): boolean {
  for (const pattern of patterns) {
    if (pattern.endsWith('*') ? story.startsWith(pattern.slice(0, -1)) : pattern === story) return true;
  }
  return false;
}
