import type { Author, Source, UpdateImage, ViewUpdate } from '../protocol/update.js';
import type { CorrectableUpdate } from '../protocol/corrections.js';
import { escapeHtml, safeHttpUrl } from './escape.js';

/**
 * HTML of one update and its parts, as strings built with `escapeHtml`. Shared by the server-rendered pages
 * and the browser bundles, so an update inserted live has exactly the markup of a server-rendered one.
 * Every piece of newsroom text goes through `escapeHtml`; nothing else is interpolated but ids (which match
 * `<ms>-<seq>`) and fixed strings.
 */

const utcFormat = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'UTC',
});

/** A time as the server writes it ("15 Feb 2022, 07:50 UTC"); the browser rewrites it in the reader's locale and zone. */
export function formatUtc(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : `${utcFormat.format(ms)} UTC`;
}

/**
 * A `<time>` element. `relative` ones are shown by the browser as "4 min ago" (refreshed) with the absolute time as
 * their title; `absolute` ones as a date and time in the reader's zone.
 */
export function timeHtml(iso: string, mode: 'relative' | 'absolute', className = ''): string {
  const cls = className ? ` class="${escapeHtml(className)}"` : '';
  return `<time${cls} datetime="${escapeHtml(iso)}" data-time="${mode}">${escapeHtml(formatUtc(iso))}</time>`;
}

/** "Name, role, org" with a link when the source has an http(s) URL. */
export function sourceHtml(source: Source): string {
  const href = safeHttpUrl(source.url);
  const name = href
    ? `<a class="source-name" href="${escapeHtml(href)}" rel="nofollow noopener noreferrer">${escapeHtml(source.name)}</a>`
    : `<span class="source-name">${escapeHtml(source.name)}</span>`;
  const detail = [source.role, source.org].filter((part): part is string => typeof part === 'string' && part.length > 0);
  return detail.length === 0 ? name : `${name}<span class="source-detail">, ${detail.map(escapeHtml).join(', ')}</span>`;
}

/** The public byline: "By <name>", linked (rel="author") when the author has an http(s) URL. */
export function bylineHtml(author: Author): string {
  const href = safeHttpUrl(author.url);
  const name = href
    ? `<a class="byline-name" href="${escapeHtml(href)}" rel="author nofollow noopener noreferrer">${escapeHtml(author.name)}</a>`
    : `<span class="byline-name">${escapeHtml(author.name)}</span>`;
  return `<p class="byline">By ${name}</p>`;
}

/** Paragraphs of newsroom text: blank lines split paragraphs, single newlines become line breaks, http(s) URLs links. */
export function textHtml(text: string): string {
  return text
    .split(/\r?\n\s*\r?\n/)
    .map((paragraph) => paragraph.trim())
    .filter((paragraph) => paragraph.length > 0)
    .map((paragraph) => `<p>${linkedHtml(paragraph).replace(/\r?\n/g, '<br>')}</p>`)
    .join('');
}

/** A URL in running text: http(s), up to whitespace or a character that cannot end one in prose. */
const urlInText = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** Punctuation that ends a sentence rather than the URL ("see https://x.example/a."). */
const trailingPunctuation = /[.,;:!?)\]}'"]+$/;

/**
 * Escaped text with each http(s) URL made a link (`rel="nofollow ugc noopener"`): the stored text stays plain,
 * every piece of it is escaped, and only a URL that `safeHttpUrl` accepts becomes an `href`.
 */
export function linkedHtml(text: string): string {
  let html = '';
  let last = 0;
  for (const match of text.matchAll(urlInText)) {
    let url = match[0];
    const trailing = trailingPunctuation.exec(url)?.[0] ?? '';
    // A closing parenthesis belongs to the URL when the URL opened one (Wikipedia-style links).
    const keep = trailing.startsWith(')') && url.slice(0, -trailing.length).includes('(') ? 1 : 0;
    url = url.slice(0, url.length - trailing.length + keep);
    const href = safeHttpUrl(url);
    if (!href) continue;
    html += escapeHtml(text.slice(last, match.index)) + `<a href="${escapeHtml(href)}" rel="nofollow ugc noopener">${escapeHtml(url)}</a>`;
    last = match.index + url.length;
  }
  return html + escapeHtml(text.slice(last));
}

/** An update's picture: https only (the schema and `safeHttpUrl` both insist), with its alt text, caption and credit. */
export function imageHtml(image: UpdateImage): string {
  const src = safeHttpUrl(image.url);
  if (!src || !src.startsWith('https:')) return '';
  const size = image.width && image.height ? ` width="${image.width}" height="${image.height}"` : '';
  const caption = [
    image.caption ? `<span class="image-caption">${escapeHtml(image.caption)}</span>` : '',
    image.credit ? `<span class="image-credit">${escapeHtml(image.credit)}</span>` : '',
  ].join(' ');
  return (
    `<figure class="update-image"><img src="${escapeHtml(src)}" alt="${escapeHtml(image.alt)}"${size} loading="lazy" decoding="async" referrerpolicy="no-referrer">` +
    (caption.trim() ? `<figcaption>${caption}</figcaption>` : '') +
    '</figure>'
  );
}

/**
 * The part of an update that a correction changes: its (corrected) text or the withdrawn notice, then the
 * "Corrected" mark with the latest note and the correction history in a `<details>`.
 */
export function updateContentHtml(update: CorrectableUpdate & { image?: UpdateImage | undefined }): string {
  const lang = update.lang ? ` lang="${escapeHtml(update.lang)}"` : '';
  // A withdrawn update loses its picture with its text.
  const body = update.withdrawn
    ? '<p class="withdrawn-text">This update has been withdrawn.</p>'
    : `<div class="update-text"${lang}>${textHtml(update.text ?? '')}</div>${update.image ? imageHtml(update.image) : ''}`;
  return `<div class="update-content">${body}${correctionHtml(update)}</div>`;
}

function correctionHtml(update: CorrectableUpdate): string {
  const corrections = update.corrections ?? [];
  const latest = corrections.at(-1);
  if (!latest) return '';
  const mark = update.withdrawn ? 'Withdrawn' : 'Corrected';
  const history = [
    `<li>First published ${timeHtml(update.publishedAt, 'absolute')}</li>`,
    ...corrections.map(
      (c) =>
        `<li data-correction-id="${escapeHtml(c.id)}"${c.retract ? ' data-retract=""' : ''}>${c.retract ? 'Withdrawn' : 'Corrected'} ${timeHtml(c.publishedAt, 'absolute')}: ` +
        `<span class="history-note">${escapeHtml(c.note)}</span></li>`,
    ),
  ].join('');
  return (
    `<aside class="correction" data-state="${update.withdrawn ? 'withdrawn' : 'corrected'}" aria-label="${mark}">` +
    `<p class="correction-head"><span class="corrected-mark">${mark}</span> ${timeHtml(latest.publishedAt, 'relative')}</p>` +
    `<p class="correction-note">${escapeHtml(latest.note)}</p>` +
    `<details class="correction-history"><summary>Correction history (${corrections.length})</summary><ol>${history}</ol></details>` +
    '</aside>'
  );
}

/** Options of `updateHtml`. */
export interface UpdateHtmlOptions {
  /** Reactions of an update, oldest first (rendered nested, recursively). */
  repliesOf?: (id: string) => readonly ViewUpdate[];
  /** Extra HTML appended to the update's header (the desk's buttons). Must be trusted markup. */
  actionsHtml?: (update: ViewUpdate) => string;
  /** Prefix of the permalink (`<page>#u-<id>`): the embed links to the service's page, not the partner's. @default "" */
  permalinkBase?: string;
  /** Id of the story's pinned update: it gets the "Pinned" flag. */
  pinned?: string | undefined;
}

/** One update as an `<article>`, with its reactions nested in a `.reactions` group. */
export function updateHtml(update: ViewUpdate, options: UpdateHtmlOptions = {}): string {
  const replies = options.repliesOf?.(update.id) ?? [];
  const flags = [
    update.id === options.pinned ? '<span class="flag flag-pinned">Pinned</span>' : '',
    update.key ? '<span class="flag flag-key">Key event</span>' : '',
    update.kind === 'reaction' ? '<span class="flag flag-reaction">Reaction</span>' : '',
  ].join('');
  const source = update.source
    ? `<p class="source">${sourceHtml(update.source)}<span class="said"> · ${timeHtml(update.occurredAt, 'absolute')}</span></p>`
    : '';
  const reactions =
    replies.length > 0
      ? `<div class="reactions" role="group" aria-label="Reactions">${replies.map((r) => updateHtml(r, options)).join('')}</div>`
      : '';
  const id = escapeHtml(update.id);
  return (
    `<article class="update" id="u-${id}" data-id="${id}" data-kind="${escapeHtml(update.kind)}"${update.key ? ' data-key=""' : ''}` +
    `${update.inReplyTo ? ` data-in-reply-to="${escapeHtml(update.inReplyTo)}"` : ''} tabindex="-1">` +
    `<header class="update-head">${flags}<a class="permalink" href="${escapeHtml(options.permalinkBase ?? '')}#u-${id}">${timeHtml(update.publishedAt, 'relative')}</a>${options.actionsHtml?.(update) ?? ''}</header>` +
    source +
    (update.author ? bylineHtml(update.author) : '') +
    updateContentHtml(update) +
    reactions +
    '</article>'
  );
}

/** What an excerpt or a key-event entry needs of an update. */
export type ExcerptSource = Pick<ViewUpdate, 'id' | 'publishedAt' | 'text' | 'withdrawn'> & { source?: Pick<Source, 'name'> | undefined };

/** A plain-text excerpt of an update, for key-event links, announcements and JSON-LD headlines. */
export function excerpt(update: ExcerptSource, maxChars: number, withSource = true): string {
  const text = update.withdrawn ? 'Withdrawn update' : (update.text ?? '').replace(/\s+/g, ' ').trim();
  // "Boris Johnson: Boris Johnson says…" reads badly: the name is left out when the text starts with it.
  const who = withSource && update.source && !text.startsWith(update.source.name) ? `${update.source.name}: ` : '';
  const full = `${who}${text}`;
  return full.length <= maxChars ? full : `${full.slice(0, maxChars - 1).trimEnd()}…`;
}

/** One entry of the key-events list: a link to the update. */
export function keyEventHtml(update: ExcerptSource): string {
  const id = escapeHtml(update.id);
  return `<li data-id="${id}"><a href="#u-${id}">${timeHtml(update.publishedAt, 'absolute')}<span class="key-excerpt">${escapeHtml(excerpt(update, 140))}</span></a></li>`;
}
