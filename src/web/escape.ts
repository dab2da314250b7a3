/**
 * The one escape function for newsroom text put into HTML, used by the server pages and the browser bundles
 * alike. It escapes the five characters that can end a text node or an attribute value (`&`, `<`, `>`, `"`, `'`),
 * so its result is safe both as element content and inside a double- or single-quoted attribute. It is not a
 * URL sanitiser: links go through `safeHttpUrl` first.
 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => htmlEntities[c as keyof typeof htmlEntities]);
}

const htmlEntities = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' } as const;

/**
 * JSON for a `<script type="application/ld+json">` block: `<`, `>` and `&` become `\u003c`, `\u003e`, `\u0026`,
 * so no text can close the script element or open a comment; the result still parses to the same value.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The URL when it is an absolute http(s) URL, else undefined: only such URLs become links. */
export function safeHttpUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}
