import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Every relative and package import of every .ts file under src/, as [file, target]. */
function imports(): [string, string][] {
  const found: [string, string][] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) {
        for (const [, target] of readFileSync(path, 'utf8').matchAll(/^(?:import|export)\b[^;]*?\bfrom '([^']+)'/gm)) {
          found.push([relative('src', path), resolveTarget(relative('src', path), target!)]);
        }
      }
    }
  };
  walk('src');
  return found;
}

/** `../store/keys.js` from `live/hub.ts` → `store/keys.js`; packages stay as they are. */
function resolveTarget(file: string, target: string): string {
  if (!target.startsWith('.')) return target;
  return join(file, '..', target);
}

const layerOf = (path: string): string => (path.includes('/') ? path.split('/')[0]! : path);

/** Which layers (first folder under src/, or a package) each layer may import. Anything not listed is refused. */
const allowed: Record<string, (target: string) => boolean> = {
  protocol: (t) => t === 'zod' || layerOf(t) === 'protocol',
  client: (t) => ['protocol', 'client'].includes(layerOf(t)),
  store: (t) => ['protocol', 'store'].includes(layerOf(t)) || ['ioredis', 'node:fs', 'pino', 'cluster-key-slot'].includes(t),
  // metrics.js (src/metrics.ts) is the one registry: the layers that count take their counters from it.
  access: (t) => ['protocol', 'access'].includes(layerOf(t)) || ['jose', 'node:crypto'].includes(t),
  live: (t) => ['protocol', 'store', 'live', 'access'].includes(layerOf(t)) || t === 'metrics.js' || ['ws', 'pino', 'ioredis'].includes(t) || t.startsWith('node:'),
  read: (t) => ['protocol', 'store', 'read'].includes(layerOf(t)) || t.startsWith('node:') || t === 'fastify',
  web: (t) => ['protocol', 'store', 'client', 'web', 'read', 'access'].includes(layerOf(t)) || t.startsWith('node:') || t === 'fastify',
  webhooks: (t) => ['protocol', 'store', 'webhooks'].includes(layerOf(t)) || t.startsWith('node:') || t === 'pino',
  http: (t) => ['protocol', 'store', 'http', 'web', 'read', 'webhooks', 'access'].includes(layerOf(t)) || t === 'metrics.js' || t.startsWith('node:') || t.includes('fastify') || ['zod', 'pino'].includes(t),
};

describe('import direction', () => {
  const all = imports();

  it('finds the imports it checks', () => {
    expect(all.length).toBeGreaterThan(50);
  });

  for (const [layer, may] of Object.entries(allowed)) {
    it(`keeps src/${layer} to its allowed dependencies`, () => {
      const refused = all.filter(([file, target]) => layerOf(file) === layer && !may(target));
      expect(refused).toEqual([]);
    });
  }

  it('lets access import neither http nor live (they import it)', () => {
    expect(all.filter(([file, target]) => layerOf(file) === 'access' && ['http', 'live', 'web', 'store'].includes(layerOf(target)))).toEqual([]);
  });

  it('lets nothing but the composition root import live or http', () => {
    const refused = all.filter(
      ([file, target]) => ['live', 'http'].includes(layerOf(target)) && layerOf(file) !== layerOf(target) && file !== 'service.ts',
    );
    expect(refused).toEqual([]);
  });
});
