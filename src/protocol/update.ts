import { z } from 'zod';
import { storyIdPattern, updateIdProblem } from './ids.js';

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
  name: z.string().trim().min(1).max(200),
  role: z.string().trim().min(1).max(200).optional(),
  org: z.string().trim().min(1).max(200).optional(),
  url: z.url({ protocol: /^https?$/ }).max(2000).optional(),
});
export type Source = z.infer<typeof Source>;

const Text = z.string().min(1).max(10_000);
/** BCP 47 language tag, e.g. `en`, `uk`, `pt-BR`. */
const Lang = z.string().regex(/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/, 'a BCP 47 language tag such as "en" or "pt-BR"');
const Note = z.string().trim().min(1).max(2000);

const StatementInput = z.strictObject({
  kind: z.literal('statement'),
  occurredAt: IsoDateTime,
  source: Source.optional(),
  text: Text,
  lang: Lang.optional(),
  key: z.boolean().optional(),
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
    occurredAt: IsoDateTime.optional(),
    source: Source.optional(),
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
export const UpdateInput = z.discriminatedUnion('kind', [StatementInput, ReactionInput, CorrectionInput]);
export type UpdateInput = z.infer<typeof UpdateInput>;

/** An update as stored and served: the input plus `id`, `story`, `publishedAt` (and `occurredAt` always set). */
export const Update = z.object({
  id: UpdateId,
  story: StoryId,
  kind: UpdateKind,
  occurredAt: IsoDateTime,
  publishedAt: z.iso.datetime(),
  source: Source.optional(),
  text: z.string().optional(),
  lang: z.string().optional(),
  key: z.boolean().optional(),
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
    title: z.string().trim().min(1).max(300),
    summary: z.string().trim().min(1).max(3000).optional(),
    status: StoryStatus,
    coverageStartTime: IsoDateTime.optional(),
    coverageEndTime: IsoDateTime.optional(),
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
    message: 'coverageEndTime is before coverageStartTime',
  });
export type StoryMetaInput = z.infer<typeof StoryMetaInput>;

/**
 * `GET /v1/stories/:story`: metadata plus the updates, oldest first, corrections folded in. `lastId` is always the
 * stream's newest entry, whatever the updates shown. A paged view (`?limit=`, `?before=`) holds the newest `limit`
 * top-level updates older than `before` with their reactions, and `nextBefore`: the cursor of the next older
 * page, or null at the oldest.
 */
export const StoryView = z.object({
  story: StoryId,
  title: z.string().optional(),
  summary: z.string().optional(),
  status: StoryStatus.optional(),
  coverageStartTime: z.string().optional(),
  coverageEndTime: z.string().optional(),
  /** Present once set; absent means public. */
  visibility: StoryVisibility.optional(),
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
