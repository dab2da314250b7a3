import { z } from 'zod';
import { StoryId, StoryMetaInput } from './update.js';

const metaShape = StoryMetaInput.shape;

type PatchShape<S extends z.core.$ZodLooseShape> = {
  [K in keyof S]: S[K] extends z.ZodOptional<infer Inner extends z.ZodType> ? z.ZodOptional<z.ZodNullable<Inner>> : z.ZodOptional<S[K]>;
};

/**
 * Each metadata field of `StoryMetaInput`, optional; an optional field may also be `null` (remove it). Built from
 * the PUT schema, so a field added there can be patched at once.
 */
function patchShape<S extends z.core.$ZodLooseShape>(shape: S): PatchShape<S> {
  const entries = Object.entries(shape).map(([name, schema]) => [
    name,
    schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType).nullable().optional() : (schema as z.ZodType).optional(),
  ]);
  return Object.fromEntries(entries) as PatchShape<S>;
}

/** coverageEndTime must not be before coverageStartTime (checked on the metadata as it will be stored). */
function coverageInOrder(meta: { coverageStartTime?: string | null | undefined; coverageEndTime?: string | null | undefined }, ctx: z.core.$RefinementCtx): void {
  if (meta.coverageStartTime && meta.coverageEndTime && Date.parse(meta.coverageStartTime) > Date.parse(meta.coverageEndTime)) {
    ctx.addIssue({ code: 'custom', path: ['coverageEndTime'], message: 'The coverage ends before it starts: make the end time later than the start time' });
  }
}

/**
 * What a publisher POSTs to `/v1/stories` to create a story: its id and its metadata as for `PUT`, with `status`
 * defaulting to "live". Unknown fields are rejected.
 */
export const StoryCreateInput = z
  .strictObject({ ...metaShape, story: StoryId, status: metaShape.status.default('live') })
  .superRefine(coverageInOrder);
export type StoryCreateInput = z.infer<typeof StoryCreateInput>;

/**
 * What a publisher PATCHes to `/v1/stories/:story`: only the fields to change. `null` removes an optional field
 * (summary, coverage times); `title` and `status` cannot be removed. At least one field.
 */
export const StoryMetaPatch = z
  .strictObject(patchShape(metaShape))
  .superRefine((patch, ctx) => {
    if (Object.keys(patch).length === 0) ctx.addIssue({ code: 'custom', path: [], message: `Name at least one field to change: ${Object.keys(metaShape).join(', ')}` });
  });
export type StoryMetaPatch = z.infer<typeof StoryMetaPatch>;
