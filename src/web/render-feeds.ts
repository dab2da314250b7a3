import { publishedAtOf } from '../protocol/ids.js';
import type { StoryView, ViewUpdate } from '../protocol/update.js';
import { escapeHtml } from './escape.js';

/** Entries a story feed carries: its newest statements and reactions, newest first. */
export const feedEntryLimit = 50;

/** What a feed's links and ids are built from: PUBLIC_URL, never a request's Host header. */
export interface FeedOptions {
  publicUrl: string;
}

/** One update as both feed formats show it, with corrections already folded in (store/fold.ts). */
interface FeedEntry {
  update: ViewUpdate;
  /** The page anchor of the update: a stable, dereferenceable id. */
  url: string;
  title: string;
  /** When it last changed: the newest correction's time, else its publication. */
  updated: string;
  html: string;
  text: string;
}

/**
 * The newest `feedEntryLimit` statements and reactions of a view, newest first, as feed entries. A corrected
 * entry's `updated` is its newest correction's time and its content ends with every correction note; a
 * withdrawn one says so and carries no text. Pure.
 */
function feedEntries(view: StoryView, options: FeedOptions): FeedEntry[] {
  const pageUrl = `${options.publicUrl}/stories/${view.story}`;
  return view.updates
    .slice(-feedEntryLimit)
    .reverse()
    .map((update) => {
      const corrections = update.corrections ?? [];
      const updated = corrections.at(-1)?.publishedAt ?? update.publishedAt;
      const body = update.withdrawn ? 'This update was withdrawn.' : (update.text ?? '');
      const notes = corrections.map((c) => `${c.retract ? 'Withdrawn' : 'Corrected'} ${c.publishedAt}: ${c.note}`);
      const html =
        `<p>${escapeHtml(body)}</p>` + notes.map((note) => `<p><em>${escapeHtml(note)}</em></p>`).join('');
      return {
        update,
        url: `${pageUrl}#u-${update.id}`,
        title: titleOf(update),
        updated,
        html,
        text: [body, ...notes].join('\n\n'),
      };
    });
}

function titleOf(update: ViewUpdate): string {
  if (update.withdrawn) return 'Withdrawn';
  const text = (update.text ?? '').replace(/\s+/g, ' ').trim();
  const excerpt = text.length > 100 ? `${text.slice(0, 99)}…` : text;
  return update.source ? `${update.source.name}: ${excerpt}` : excerpt;
}

/** When the feed last changed: its newest entry (a correction included), else epoch for an empty story. */
function feedUpdated(view: StoryView): string {
  return view.lastId === null ? new Date(0).toISOString() : publishedAtOf(view.lastId);
}

/**
 * The story as an Atom 1.0 feed (RFC 4287). The feed id and entry ids are the page's URL and its update
 * anchors under PUBLIC_URL, so they never change; the feed author is PUBLIC_URL's host, each entry's author
 * its source when it has one.
 */
export function atomFeed(view: StoryView, options: FeedOptions): string {
  const pageUrl = `${options.publicUrl}/stories/${view.story}`;
  const title = view.title ?? view.story;
  const entries = feedEntries(view, options)
    .map(
      (e) =>
        '<entry>' +
        `<id>${xml(e.url)}</id>` +
        `<title type="text">${xml(e.title)}</title>` +
        `<link rel="alternate" type="text/html" href="${xml(e.url)}"/>` +
        `<published>${e.update.publishedAt}</published>` +
        `<updated>${e.updated}</updated>` +
        (e.update.source ? `<author><name>${xml(e.update.source.name)}</name></author>` : '') +
        (e.update.withdrawn ? '<category term="withdrawn" label="Withdrawn"/>' : '') +
        (!e.update.withdrawn && e.update.corrections?.length ? '<category term="corrected" label="Corrected"/>' : '') +
        `<content type="html">${xml(e.html)}</content>` +
        '</entry>\n',
    )
    .join('');
  return (
    '<?xml version="1.0" encoding="utf-8"?>\n' +
    '<feed xmlns="http://www.w3.org/2005/Atom">\n' +
    `<id>${xml(pageUrl)}</id>\n` +
    `<title type="text">${xml(title)}</title>\n` +
    (view.summary ? `<subtitle type="text">${xml(view.summary)}</subtitle>\n` : '') +
    `<updated>${feedUpdated(view)}</updated>\n` +
    `<author><name>${xml(new URL(options.publicUrl).host)}</name></author>\n` +
    `<link rel="alternate" type="text/html" href="${xml(pageUrl)}"/>\n` +
    `<link rel="self" type="application/atom+xml" href="${xml(`${pageUrl}/feed.atom`)}"/>\n` +
    '<generator>Stoppress</generator>\n' +
    entries +
    '</feed>\n'
  );
}

/**
 * The story as a JSON Feed 1.1. Each item carries `_stoppress` (the update's kind, `withdrawn` and its
 * corrections), the extension the format provides for data of its own.
 */
export function jsonFeed(view: StoryView, options: FeedOptions): string {
  const pageUrl = `${options.publicUrl}/stories/${view.story}`;
  return JSON.stringify({
    version: 'https://jsonfeed.org/version/1.1',
    title: view.title ?? view.story,
    home_page_url: pageUrl,
    feed_url: `${pageUrl}/feed.json`,
    ...(view.summary ? { description: view.summary } : {}),
    authors: [{ name: new URL(options.publicUrl).host }],
    items: feedEntries(view, options).map((e) => ({
      id: e.url,
      url: e.url,
      title: e.title,
      content_html: e.html,
      content_text: e.text,
      date_published: e.update.publishedAt,
      date_modified: e.updated,
      ...(e.update.source ? { authors: [{ name: e.update.source.name, ...(e.update.source.url ? { url: e.update.source.url } : {}) }] } : {}),
      ...(e.update.lang ? { language: e.update.lang } : {}),
      _stoppress: {
        id: e.update.id,
        kind: e.update.kind,
        ...(e.update.inReplyTo ? { inReplyTo: e.update.inReplyTo } : {}),
        withdrawn: e.update.withdrawn === true,
        corrections: e.update.corrections ?? [],
      },
    })),
  });
}

/**
 * Text for XML content and attribute values: the five markup characters escaped, and the characters XML 1.0
 * forbids (C0 controls other than tab and newlines, lone surrogates, U+FFFE/U+FFFF) dropped, so no update text can
 * make the feed unparsable.
 */
function xml(value: string): string {
  return escapeHtml(value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, ''));
}
