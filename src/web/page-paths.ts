/**
 * True for the paths of the HTML pages (`/`, `/desk`, `/stories/:story`): errors raised for them, before a
 * route runs too (a bad URL, an over-long story id, a wrong method), answer an HTML page; every other path
 * answers errors in the JSON error shape.
 */
export function isPagePath(path: string): boolean {
  return path === '/' || path === '/desk' || /^\/stories\/[^/]+$/.test(path);
}
