/**
 * The methods each route path answers, collected from Fastify's `onRoute` hook, so that a request for a known
 * path with another method gets 405 and an `Allow` header rather than 404. Fastify's own lookups (`hasRoute`,
 * `findRoute`) take a route pattern, not a request path, so the patterns are matched here; the service's
 * patterns use only static parts, `:param` segments and a trailing `*`.
 */
export class RouteMethods {
  readonly #byUrl = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  /** Records a route. The catch-all `*` (the CORS preflight route) names no path and is left out. */
  add(method: string | string[], url: string): void {
    if (url === '*' || url === '/*') return;
    let entry = this.#byUrl.get(url);
    if (!entry) {
      entry = { pattern: patternOf(url), methods: new Set() };
      this.#byUrl.set(url, entry);
    }
    for (const m of Array.isArray(method) ? method : [method]) entry.methods.add(m.toUpperCase());
    // Fastify answers HEAD wherever it answers GET.
    if (entry.methods.has('GET')) entry.methods.add('HEAD');
  }

  /** The methods some route answers for `path` (no query string), sorted; empty when no route has the path. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const { pattern, methods: own } of this.#byUrl.values()) {
      if (pattern.test(path)) for (const m of own) methods.add(m);
    }
    return [...methods].sort();
  }
}

function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}
