import type { StoryView } from '../protocol/update.js';
import { excerpt } from './render-update.js';
import { compareUpdateIds } from '../protocol/ids.js';

/** Updates listed in `liveBlogUpdate`, newest first. */
export const jsonLdUpdateLimit = 100;

/**
 * The schema.org `LiveBlogPosting` of a story: headline, description, coverage times (`coverageEndTime` only
 * once the story has ended) and its latest `jsonLdUpdateLimit` updates as `BlogPosting` items (withdrawn ones
 * left out; corrected ones carry `dateModified`). An ended story without `coverageEndTime` ends at its last change. Returns a plain object: `jsonForScript` writes it into the page.
 */
export function liveBlogJsonLd(view: StoryView, pageUrl: string): Record<string, unknown> {
  const visible = view.updates.filter((u) => !u.withdrawn).sort((a, b) => compareUpdateIds(b.id, a.id));
  const updates = visible.slice(0, jsonLdUpdateLimit).map((u) => {
    const modified = u.corrections?.at(-1)?.publishedAt;
    return {
      '@type': 'BlogPosting',
      '@id': `${pageUrl}#u-${u.id}`,
      url: `${pageUrl}#u-${u.id}`,
      headline: excerpt(u, 110, false),
      articleBody: u.text ?? '',
      datePublished: u.publishedAt,
      ...(modified ? { dateModified: modified } : {}),
      // The byline is the posting's author; without one, the source stands in as before.
      ...(u.author
        ? { author: { '@type': 'Person', name: u.author.name, ...(u.author.url ? { url: u.author.url } : {}) } }
        : u.source
          ? { author: { '@type': 'Person', name: u.source.name, ...(u.source.org ? { affiliation: { '@type': 'Organization', name: u.source.org } } : {}) } }
          : {}),
      ...(u.lang ? { inLanguage: u.lang } : {}),
      ...(u.image ? { image: { '@type': 'ImageObject', url: u.image.url, description: u.image.alt, ...(u.image.caption ? { caption: u.image.caption } : {}), ...(u.image.credit ? { creditText: u.image.credit } : {}), ...(u.image.width && u.image.height ? { width: u.image.width, height: u.image.height } : {}) } } : {}),
    };
  });
  const first = view.updates[0];
  const latestChange = view.updates.map((u) => u.corrections?.at(-1)?.publishedAt ?? u.publishedAt).sort().at(-1);
  const coverageStartTime = view.coverageStartTime ?? first?.publishedAt;
  return {
    '@context': 'https://schema.org',
    '@type': 'LiveBlogPosting',
    '@id': pageUrl,
    url: pageUrl,
    headline: view.title ?? view.story,
    ...(view.summary ? { description: view.summary } : {}),
    ...(coverageStartTime ? { coverageStartTime, datePublished: coverageStartTime } : {}),
    ...(view.status === 'ended' && (view.coverageEndTime ?? latestChange) ? { coverageEndTime: view.coverageEndTime ?? latestChange } : {}),
    ...(latestChange ? { dateModified: latestChange } : {}),
    liveBlogUpdate: updates,
  };
}
