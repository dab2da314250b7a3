import { z } from 'zod';
import { StoryChange, StoryId, Update, UpdateId } from './update.js';

/** Client → server: follow a story. Without `since`: live from now; with it: every entry after it, then live. */
export const SubscribeFrame = z.strictObject({
  type: z.literal('subscribe'),
  story: StoryId,
  since: UpdateId.optional(),
  /** A subscriber token for this subscribe only (a private story needs one that covers it). */
  token: z.string().min(1).max(8192).optional(),
});
/**
 * Client → server: a subscriber token covering this socket's later subscribes (until it expires). A new one
 * replaces it and extends the subscriptions it covers, without resubscribing.
 */
export const AuthFrame = z.strictObject({
  type: z.literal('auth'),
  token: z.string().min(1).max(8192),
});
/** Client → server: stop following a story. */
export const UnsubscribeFrame = z.strictObject({
  type: z.literal('unsubscribe'),
  story: StoryId,
});
export const ClientFrame = z.discriminatedUnion('type', [SubscribeFrame, UnsubscribeFrame, AuthFrame]);
export type ClientFrame = z.infer<typeof ClientFrame>;

/** Server → client: sent before any update of the subscription. */
export const SubscribedFrame = z.object({
  type: z.literal('subscribed'),
  story: StoryId,
  lastId: UpdateId.nullable(),
  recovered: z.boolean().optional(),
});
export type SubscribedFrame = z.infer<typeof SubscribedFrame>;

/** Server → client: one per stream entry, in stream order. */
export const UpdateFrame = z.object({
  type: z.literal('update'),
  story: StoryId,
  update: Update,
});
export type UpdateFrame = z.infer<typeof UpdateFrame>;

/**
 * Server → client: a story-change entry (title, summary, status, pinned post, an update's flags), in stream
 * order with the updates; its id counts for `since` like an update's. Never an `update` frame, so a client that
 * does not know it shows nothing.
 */
export const StoryFrame = z.object({
  type: z.literal('story'),
  story: StoryId,
  change: StoryChange,
});
export type StoryFrame = z.infer<typeof StoryFrame>;

/** Server → client: confirms an unsubscribe; no update of that story follows it. */
export const UnsubscribedFrame = z.object({
  type: z.literal('unsubscribed'),
  story: StoryId,
});
export type UnsubscribedFrame = z.infer<typeof UnsubscribedFrame>;

/** Server → client: a frame was refused. The socket stays open. */
export const ErrorFrame = z.object({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
  story: StoryId.optional(),
});
export type ErrorFrame = z.infer<typeof ErrorFrame>;

/** Server → client: the `auth` frame's token was accepted; it covers this socket's subscribes until `expiresAt`. */
export const AuthenticatedFrame = z.object({
  type: z.literal('authenticated'),
  expiresAt: z.iso.datetime(),
});
export type AuthenticatedFrame = z.infer<typeof AuthenticatedFrame>;

export const ServerFrame = z.discriminatedUnion('type', [SubscribedFrame, UpdateFrame, StoryFrame, UnsubscribedFrame, ErrorFrame, AuthenticatedFrame]);
export type ServerFrame = z.infer<typeof ServerFrame>;
