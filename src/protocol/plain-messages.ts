import { z } from 'zod';

/**
 * Validation messages an editor understands: each says what is wrong with which field and what to do, in plain
 * words, the same in the API's `issues` and in the desk (which shows the API's messages as they are). Built
 * with zod 4's per-schema `error` option; the issue `code`s and paths are zod's, unchanged.
 */

/** An example time with an offset, quoted in messages. */
export const exampleTime = '2022-02-15T12:00:00+03:00';

/** "Write the update's text" → "The update's text": the field's name as the start of a sentence. */
function capitalised(label: string): string {
  return label.charAt(0).toUpperCase() + label.slice(1);
}

/** What a value that is not a string is called in a message. */
function describe(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  return typeof input === 'object' ? 'an object' : `a ${typeof input}`;
}

export interface PlainTextOptions {
  /** The field as a reader names it, lower case: "the update's text", "the source's name". */
  label: string;
  /** The maximum length in characters. */
  max: number;
  /** Trim surrounding white space before the checks (a blank value is then empty). @default false */
  trim?: boolean;
  /** The message for an empty value. @default "<Label> is empty" */
  empty?: string;
  /** The message for a missing value. @default "<Label> is missing" */
  missing?: string;
}

/** A non-empty string of at most `max` characters, with plain messages for missing, empty, too long and not text. */
export function plainText({ label, max, trim = false, empty, missing }: PlainTextOptions): z.ZodString {
  const base = z.string({
    error: (issue) =>
      issue.input === undefined ? (missing ?? `${capitalised(label)} is missing`) : `${capitalised(label)} must be text, not ${describe(issue.input)}`,
  });
  return (trim ? base.trim() : base)
    .min(1, { error: empty ?? `${capitalised(label)} is empty` })
    .max(max, { error: (issue) => `${capitalised(label)} is ${String(issue.input).length} characters; the limit is ${max}` });
}

/** ISO 8601 date-time with its offset, e.g. 2022-02-15T12:00:00+03:00 or …Z (as dates are written: no offset, no meaning). */
export function plainDateTime(label: string): z.ZodISODateTime {
  return z.iso.datetime({
    offset: true,
    error: (issue) => {
      if (issue.input === undefined) return `Give ${label}, with its UTC offset, e.g. ${exampleTime}`;
      if (typeof issue.input !== 'string') return `${capitalised(label)} must be text such as ${exampleTime}, not ${describe(issue.input)}`;
      // A date and time without an offset: the one thing missing is said precisely.
      if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(issue.input)) return `Add the UTC offset, e.g. ${exampleTime}`;
      return `Write ${label} as a date and time with its UTC offset, e.g. ${exampleTime}`;
    },
  });
}

/** An http(s) URL of at most 2000 characters. */
export function plainHttpUrl(label: string): z.ZodURL {
  return z
    .url({ protocol: /^https?$/, error: `${capitalised(label)} must be a full web address starting with https:// or http://, e.g. https://example.com/page` })
    .max(2000, { error: (issue) => `${capitalised(label)} is ${String(issue.input).length} characters; the limit is 2000` });
}

/** One of a few words, with a message listing them. */
export function plainChoice<const T extends readonly [string, ...string[]]>(label: string, values: T): z.ZodEnum<{ [K in T[number]]: K }> {
  const listed = values.length === 1 ? `"${values[0]}"` : `${values.slice(0, -1).map((v) => `"${v}"`).join(', ')} or "${values.at(-1)}"`;
  return z.enum(values, {
    error: (issue) => (issue.input === undefined ? `Choose ${label}: ${listed}` : `${capitalised(label)} must be ${listed}, not ${JSON.stringify(issue.input)}`),
  });
}
