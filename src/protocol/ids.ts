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

/** Compares two update ids in stream order: negative when `a` is older than `b`. */
export function compareUpdateIds(a: string, b: string): number {
  const [aMs = '0', aSeq = '0'] = a.split('-');
  const [bMs = '0', bSeq = '0'] = b.split('-');
  const ms = BigInt(aMs) - BigInt(bMs);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(aSeq) - BigInt(bSeq);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** The time an update was published, read off its id (Redis stamps the id with its clock at XADD). */
export function publishedAtOf(id: string): string {
  return new Date(Number(id.slice(0, id.indexOf('-')))).toISOString();
}
