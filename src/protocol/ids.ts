// Id formats and ordering, with no zod: the browser client imports these as values, and importing
// update.ts (whose top-level schemas esbuild cannot drop) would pull all of zod into its bundle.

/** A story id: lower-case letters, digits and dashes, 1..64 characters, starting with a letter or digit. */
export const storyIdPattern = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * An update id is the Redis stream entry id `<ms>-<seq>`: two unsigned 64-bit integers in canonical decimal
 * form (no leading zeros except `0` itself). Ids are assigned by Redis and strictly increase within a story;
 * clients treat them as opaque, ordered tokens. The pattern checks the form; `updateIdProblem` also checks the
 * 64-bit range, which a regular expression says poorly.
 */
export const updateIdPattern = /^(0|[1-9]\d{0,19})-(0|[1-9]\d{0,19})$/;

/** The largest value of either part of an update id (2^64 - 1): Redis refuses anything above it. */
export const maxUpdateIdPart = '18446744073709551615';

/** The largest update id there can be: nothing comes after it. */
export const maxUpdateId = `${maxUpdateIdPart}-${maxUpdateIdPart}`;

/**
 * Says why `value` is not an update id, or returns undefined when it is one (canonical `<ms>-<seq>`, each
 * part at most 18446744073709551615). The reason is written to be shown to the sender.
 */
export function updateIdProblem(value: string): string | undefined {
  const parts = /^(\d+)-(\d+)$/.exec(value);
  if (!parts) return 'an update id is "<ms>-<seq>", two decimal numbers such as "1644914400000-0"';
  for (const part of [parts[1]!, parts[2]!]) {
    if (part.length > 1 && part.startsWith('0')) return 'a part has leading zeros: write each part in canonical form ("0", "7", not "07")';
    if (part.length > maxUpdateIdPart.length || (part.length === maxUpdateIdPart.length && part > maxUpdateIdPart)) {
      return `a part is over ${maxUpdateIdPart} (2^64 - 1)`;
    }
  }
  return undefined;
}

/** True when `value` is an update id: canonical form, each part within 64 bits. */
export function isUpdateId(value: string): boolean {
  return updateIdProblem(value) === undefined;
}

/**
 * Compares two update ids in stream order: -1 when `a` is older than `b`, 1 when newer, 0 when the same. Ids
 * are canonical (no leading zeros: checked at the edge, and Redis writes them so), so a longer part is a larger
 * number and parts of one length compare as text: no BigInt, no split. Every read and every delivery compares
 * ids (the read cache once per request), so this stays cheap.
 */
export function compareUpdateIds(a: string, b: string): number {
  if (a === b) return 0;
  const aDash = a.indexOf('-');
  const bDash = b.indexOf('-');
  const aMsEnd = aDash === -1 ? a.length : aDash;
  const bMsEnd = bDash === -1 ? b.length : bDash;
  return (
    compareDecimals(a.slice(0, aMsEnd), b.slice(0, bMsEnd)) ||
    compareDecimals(aDash === -1 ? '0' : a.slice(aDash + 1), bDash === -1 ? '0' : b.slice(bDash + 1))
  );
}

/** Compares two canonical decimal numbers of any size. */
function compareDecimals(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The time an update was published, read off its id (Redis stamps the id with its clock at XADD). */
export function publishedAtOf(id: string): string {
  return new Date(Number(id.slice(0, id.indexOf('-')))).toISOString();
}
