import { z } from 'zod';

/** Longest webhook URL accepted. */
export const webhookUrlMaxChars = 2000;
/** Most story ids and patterns one webhook may list. */
export const webhookMaxStories = 100;

/**
 * A story id (`election-2026`) or a prefix pattern ending in one `*` (`election-2026-*`); a bare `*` covers every
 * story. Nothing else: no other wildcard, no character a story id cannot hold.
 */
export const StoryPattern = z
  .string()
  .regex(/^(?:[a-z0-9][a-z0-9-]{0,63}|(?:[a-z0-9][a-z0-9-]{0,62})?\*)$/, 'a story id, or a prefix of one followed by a single "*" (e.g. "election-2026-*")');

/** A Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 random bytes. */
export const WebhookSecret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'a secret is "whsec_" followed by base64')
  .refine((value) => {
    const bytes = base64Bytes(value.slice('whsec_'.length));
    return bytes >= 24 && bytes <= 64;
  }, 'the secret must encode 24 to 64 bytes');

/** What a publisher POSTs to `/v1/webhooks`. Unknown fields are refused. */
export const WebhookInput = z.strictObject({
  url: z
    .string()
    .max(webhookUrlMaxChars, `at most ${webhookUrlMaxChars} characters`)
    .pipe(z.url({ protocol: /^https?$/, error: 'an absolute http:// or https:// URL' })),
  stories: z.array(StoryPattern).min(1, 'list at least one story id or pattern').max(webhookMaxStories, `at most ${webhookMaxStories} story ids and patterns`),
  secret: WebhookSecret.optional(),
});
export type WebhookInput = z.infer<typeof WebhookInput>;

/** A registered webhook as the API shows it (never with its secret, except once in the answer to its registration). */
export interface Webhook {
  id: string;
  url: string;
  stories: string[];
  createdAt: string;
  enabled: boolean;
  /** Set while disabled: when, and why (the last failure once retries ran out). */
  disabledAt?: string;
  disabledReason?: string;
}

/** The body of a delivery: one new entry of a story, or entries trimmed before they could be delivered. */
export type WebhookPayload =
  | { type: 'update'; story: string; update: Record<string, unknown> }
  | { type: 'gap'; story: string; after: string; next: string };

/** True when `story` is covered by one of `patterns` (exact ids and prefix patterns ending in `*`). */
export function storyMatches(patterns: readonly string[], story: string): boolean {
  return patterns.some((p) => (p.endsWith('*') ? story.startsWith(p.slice(0, -1)) : p === story));
}

function base64Bytes(value: string): number {
  const padding = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  return Math.floor((value.length * 3) / 4) - padding;
}
