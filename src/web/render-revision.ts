import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A short hash of what shapes a story's page and view besides the story itself: PUBLIC_URL and the code of the
 * rendering modules (this directory). It goes into every ETag, so that after a deploy that changes a template
 * a browser or CDN revalidating an unchanged story gets the new page instead of a 304 for the old one. Every
 * node running the same build computes the same value.
 */
export function renderRevision(publicUrl: string): string {
  const hash = createHash('sha256').update(publicUrl);
  const dir = dirname(fileURLToPath(import.meta.url));
  for (const name of readdirSync(dir).sort()) {
    if (/\.(js|ts)$/.test(name) && !name.endsWith('.d.ts')) hash.update(name).update(readFileSync(join(dir, name)));
  }
  return hash.digest('hex').slice(0, 8);
}
