// Bundles the browser code (client library, page scripts) into single ES modules under dist/public/ with
// esbuild, so the service serves real bundles rather than hand-concatenated files.
import { mkdirSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

/**
 * entry point → served file (an ES module), or { out, format } for another esbuild format. Add page scripts
 * here. Style sheets are entries too: esbuild inlines their @imports and minifies them.
 */
export const browserEntries = {
  'src/client/browser.ts': 'client.js',
  'src/web/browser/blog.ts': 'assets/blog.js',
  'src/web/browser/desk.ts': 'assets/desk.js',
  // Partners paste a plain <script src>: a classic script, so an IIFE (document.currentScript exists only in
  // classic scripts, and the bundle's top-level names must not land in the partner's globals).
  'src/web/browser/embed.ts': { out: 'embed.js', format: 'iife' },
  'src/web/assets/blog.css': 'assets/blog.css',
  'src/web/assets/desk.css': 'assets/desk.css',
};

mkdirSync('dist/public', { recursive: true });
const sizes = {};
for (const [entry, spec] of Object.entries(browserEntries)) {
  const { out, format = 'esm' } = typeof spec === 'string' ? { out: spec } : spec;
  const result = await build({
    entryPoints: [entry],
    outfile: `dist/public/${out}`,
    bundle: true,
    format,
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: true,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  sizes[out] = Object.values(result.metafile.outputs).find((o) => o.entryPoint === entry)?.bytes;
}
writeFileSync('dist/public/sizes.json', JSON.stringify(sizes, null, 2));
