// Id formats and ordering, with no zod: the browser client imports these as values, and importing
// update.ts (whose top-level schemas esbuild cannot drop) would pull all of zod into its bundle.

/** A story id: lower-case letters, digits and dashes, 1..64 characters, starting with a letter or digit. */
export const storyIdPattern = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * An update id is the Redis stream entry id `<ms>-<seq>`. Ids are assigned by Redis and strictly
 * increase within a story; clients treat them as opaque, ordered tokens.
 */
export const updateIdPattern = /^\d{1,20}-\d{1,20}$/;

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
