import { z } from 'zod';
import { storyIdPattern, updateIdProblem } from './ids.js';
import { plainChoice, plainDateTime, plainHttpUrl, plainText } from './plain-messages.js';

export { compareUpdateIds, isUpdateId, maxUpdateId, publishedAtOf, storyIdPattern, updateIdPattern, updateIdProblem } from './ids.js';

export const StoryId = z.string().regex(storyIdPattern, 'a story id is 1-64 of a-z, 0-9 and "-", not starting with "-"');
export type StoryId = z.infer<typeof StoryId>;

/** An update id: the Redis stream entry id `<ms>-<seq>`, two canonical unsigned 64-bit integers (see ids.ts). */
export const UpdateId = z.string().superRefine((value, context) => {
  const problem = updateIdProblem(value);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
});
export type UpdateId = z.infer<typeof UpdateId>;

export const UpdateKind = z.enum(['statement', 'reaction', 'correction']);
export type UpdateKind = z.infer<typeof UpdateKind>;

/** ISO 8601 date-time that carries an offset (`Z` or `+02:00`): when something happened, as the newsroom says. */
export const IsoDateTime = z.iso.datetime({ offset: true });

/** Who said it. */
export const Source = z.strictObject({
  name: plainText({ label: "the source's name", max: 200, trim: true, missing: "Give the source's name (or leave the source out)" }),
  role: plainText({ label: "the source's role", max: 200, trim: true, empty: "The source's role is empty: fill it in or leave it out" }).optional(),
  org: plainText({ label: "the source's organisation", max: 200, trim: true, empty: "The source's organisation is empty: fill it in or leave it out" }).optional(),
  url: plainHttpUrl("the source's link").optional(),
});
export type Source = z.infer<typeof Source>;

/**
 * The public byline of an update: who wrote it, shown to readers (page, embed, JSON-LD `author`). Separate from
 * the audit trail's publisher name, which readers never see.
 */
export const Author = z.strictObject({
  name: plainText({ label: "the author's name", max: 200, trim: true, missing: "Give the author's name (or leave the author out)" }),
  url: plainHttpUrl("the author's link").optional(),
});
export type Author = z.infer<typeof Author>;

const Text = plainText({ label: "the update's text", max: 10_000, empty: "Write the update's text: it is empty", missing: "Write the update's text: it is missing" });
const OccurredAt = plainDateTime('the time it happened (occurredAt)');
/** BCP 47 language tag, e.g. `en`, `uk`, `pt-BR`. */
const Lang = z.string({ error: 'Give the language as text, e.g. "en" or "pt-BR"' }).regex(/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/, 'Give the language as a BCP 47 tag such as "en" or "pt-BR"');
const Note = plainText({ label: 'the correction note', max: 2000, trim: true, empty: 'Write the correction note for readers: it is empty', missing: 'Write the correction note for readers: it is missing' });

/**
 * A picture with an update. `url` must be https (the pages' CSP allows images from https: only); `alt` describes
 * it for readers who cannot see it and is required. `width`/`height` (pixels) let the page reserve its space.
 */
export const UpdateImage = z.strictObject({
  url: z.url({ protocol: /^https$/ }).max(2000),
  alt: z.string().trim().min(1).max(1000),
  credit: z.string().trim().min(1).max(300).optional(),
  caption: z.string().trim().min(1).max(1000).optional(),
  width: z.number().int().min(1).max(20_000).optional(),
  height: z.number().int().min(1).max(20_000).optional(),
});
export type UpdateImage = z.infer<typeof UpdateImage>;

const StatementInput = z.strictObject({
  kind: z.literal('statement'),
  occurredAt: OccurredAt,
  source: Source.optional(),
  author: Author.optional(),
  text: Text,
  lang: Lang.optional(),
  key: z.boolean().optional(),
  image: UpdateImage.optional(),
});

const ReactionInput = StatementInput.extend({
  kind: z.literal('reaction'),
  inReplyTo: UpdateId.optional(),
});

/** A correction either replaces the target's text (`text` + `note`) or withdraws it (`retract: true` + `note`). */
const CorrectionInput = z
  .strictObject({
    kind: z.literal('correction'),
    corrects: UpdateId,
    occurredAt: OccurredAt.optional(),
    source: Source.optional(),
    author: Author.optional(),
    text: Text.optional(),
    note: Note,
    retract: z.literal(true).optional(),
    lang: Lang.optional(),
  })
  .superRefine((value, ctx) => {
    if (value.retract && value.text !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['text'], message: 'a retraction carries no text: drop "text" or "retract"' });
    }
    if (!value.retract && value.text === undefined) {
      ctx.addIssue({ code: 'custom', path: ['text'], message: 'a correction needs the corrected full "text" (or "retract": true)' });
    }
  });

/** What a publisher POSTs to `/v1/stories/:story/updates`. Unknown fields are rejected. */
export const UpdateInput = z.discriminatedUnion('kind', [StatementInput, ReactionInput, CorrectionInput], {
  error: (issue) => (issue.code === 'invalid_union' ? 'Choose the kind of update: "statement", "reaction" or "correction"' : undefined),
});
export type UpdateInput = z.infer<typeof UpdateInput>;

/** An update as stored and served: the input plus `id`, `story`, `publishedAt` (and `occurredAt` always set). */
export const Update = z.object({
  id: UpdateId,
  story: StoryId,
  kind: UpdateKind,
  occurredAt: IsoDateTime,
  publishedAt: z.iso.datetime(),
  source: Source.optional(),
  author: Author.optional(),
  text: z.string().optional(),
  lang: z.string().optional(),
  key: z.boolean().optional(),
  image: UpdateImage.optional(),
  inReplyTo: UpdateId.optional(),
  corrects: UpdateId.optional(),
  note: z.string().optional(),
  retract: z.boolean().optional(),
});
export type Update = z.infer<typeof Update>;

/** One correction applied to an update in the story view. */
export const AppliedCorrection = z.object({
  id: UpdateId,
  note: z.string(),
  publishedAt: z.iso.datetime(),
  retract: z.boolean().optional(),
});
export type AppliedCorrection = z.infer<typeof AppliedCorrection>;

/**
 * A statement or reaction in the story view, with its corrections folded in: `text` is the latest
 * corrected text; a withdrawn update has `withdrawn: true` and no text.
 */
export const ViewUpdate = Update.extend({
  corrections: z.array(AppliedCorrection).optional(),
  withdrawn: z.boolean().optional(),
});
export type ViewUpdate = z.infer<typeof ViewUpdate>;

export const StoryStatus = z.enum(['live', 'ended']);
export type StoryStatus = z.infer<typeof StoryStatus>;

/** Who may read a story: everyone, or holders of a subscriber token that covers it (and publishers). */
export const StoryVisibility = z.enum(['public', 'private']);
export type StoryVisibility = z.infer<typeof StoryVisibility>;

/** What a publisher PUTs to `/v1/stories/:story`. */
export const StoryMetaInput = z
  .strictObject({
    title: plainText({ label: "the story's title", max: 300, trim: true, empty: "Write the story's title: it is empty", missing: "Write the story's title: it is missing" }),
    summary: plainText({ label: "the story's summary", max: 3000, trim: true, empty: "The story's summary is empty: write one or leave it out" }).optional(),
    status: plainChoice("the story's status", ['live', 'ended']),
    coverageStartTime: plainDateTime('the coverage start time').optional(),
    coverageEndTime: plainDateTime('the coverage end time').optional(),
    /** Left out: the story keeps its current visibility (a story never becomes public by omission). @default "public" */
    visibility: StoryVisibility.optional(),
    /** The story is private until then, then public by itself. Left out: kept; `null`: the embargo is lifted. */
    embargoUntil: IsoDateTime.nullable().optional(),
  })
  .refine((m) => !(m.visibility === 'public' && typeof m.embargoUntil === 'string'), {
    path: ['visibility'],
    message: 'an embargoed story is private until embargoUntil: leave visibility out (or "private"), or send "embargoUntil": null',
  })
  .refine((m) => !m.coverageStartTime || !m.coverageEndTime || Date.parse(m.coverageStartTime) <= Date.parse(m.coverageEndTime), {
    path: ['coverageEndTime'],
    message: 'The coverage ends before it starts: make the end time later than the start time',
  });
export type StoryMetaInput = z.infer<typeof StoryMetaInput>;

/** The story's metadata as of a story-change entry: what a reader shows in the header. */
export const StoryMeta = z.object({
  title: z.string().optional(),
  summary: z.string().optional(),
  status: StoryStatus.optional(),
  coverageStartTime: z.string().optional(),
  coverageEndTime: z.string().optional(),
  /** Id of the pinned update (shown first), when one is pinned. */
  pinned: UpdateId.optional(),
  /** `private` while the story needs a subscriber token (and while embargoed); absent or `public` otherwise. */
  visibility: StoryVisibility.optional(),
});
export type StoryMeta = z.infer<typeof StoryMeta>;

/**
 * `GET /v1/stories/:story`: metadata plus the updates, oldest first, corrections folded in. `lastId` is always the
 * stream's newest entry, whatever the updates shown. A paged view (`?limit=`, `?before=`) holds the newest `limit`
 * top-level updates older than `before` with their reactions, and `nextBefore`: the cursor of the next older
 * page, or null at the oldest.
 */
export const StoryView = StoryMeta.extend({
  story: StoryId,
  /** Present while an embargo is pending: private until then. */
  embargoUntil: z.string().optional(),
  lastId: UpdateId.nullable(),
  updates: z.array(ViewUpdate),
  nextBefore: UpdateId.nullable().optional(),
});
export type StoryView = z.infer<typeof StoryView>;

/** One row of `GET /v1/stories`. */
export const StorySummary = z.object({
  story: StoryId,
  title: z.string().nullable(),
  status: StoryStatus.nullable(),
  lastId: UpdateId.nullable(),
  updatedAt: z.iso.datetime().nullable(),
  count: z.number().int().nonnegative(),
  /** Present once set; absent means public. */
  visibility: StoryVisibility.optional(),
  embargoUntil: z.string().optional(),
});
export type StorySummary = z.infer<typeof StorySummary>;

/** Key-event and pinned flags of one update, set or cleared after publishing (a field left out is unchanged). */
export const UpdateFlagsInput = z
  .strictObject({
    key: z.boolean().optional(),
    pinned: z.boolean().optional(),
  })
  .refine((f) => f.key !== undefined || f.pinned !== undefined, { message: 'set "key", "pinned" or both' });
export type UpdateFlagsInput = z.infer<typeof UpdateFlagsInput>;

/**
 * A story-change entry of the stream (`k=story`): a metadata write (title, summary, status, coverage times) or a
 * change of an update's flags. `meta` is the story's whole metadata after the change, so applying the newest
 * entry is enough; `flags` names the update whose flags changed and their new values. Stored as
 * `{"kind":"story",...}` (`kind` first, so the live path tells it from an update by its first bytes); served,
 * like updates, with `id`, `story` and `publishedAt`. Never counted as an update.
 */
export const StoryChange = z.object({
  id: UpdateId,
  story: StoryId,
  publishedAt: z.iso.datetime(),
  kind: z.literal('story'),
  meta: StoryMeta,
  flags: z
    .object({
      update: UpdateId,
      key: z.boolean().optional(),
      pinned: z.boolean().optional(),
    })
    .optional(),
});
export type StoryChange = z.infer<typeof StoryChange>;

/** One entry of a story's stream as served: an update or a story change. */
export type StreamEntry = Update | StoryChange;

/** The stored JSON of every story-change entry starts with this (see StoryChange). */
export const storyChangePrefix = '{"kind":"story"';
