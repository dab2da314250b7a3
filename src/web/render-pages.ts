import type { StorySummary, StoryView } from '../protocol/update.js';
import { escapeHtml, jsonForScript } from './escape.js';
import { keyEvents, type FeedTree } from './feed-tree.js';
import { liveBlogJsonLd } from './live-blog-json-ld.js';
import { keyEventHtml, timeHtml, updateHtml } from './render-update.js';
import { pageOfFeed } from './view-paging.js';

/**
 * Server-rendered pages. No inline script and no style attribute anywhere (the CSP forbids both): behaviour
 * comes from /assets/*.js, looks from /assets/*.css; the JSON-LD block is data, not script.
 */

interface LayoutOptions {
  title: string;
  description?: string;
  stylesheet: string;
  /** A module script under /assets/. */
  script?: string;
  headExtra?: string;
  bodyClass: string;
  body: string;
}

function layout(o: LayoutOptions): string {
  return (
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    `<title>${escapeHtml(o.title)}</title>\n` +
    (o.description ? `<meta name="description" content="${escapeHtml(o.description)}">\n` : '') +
    '<link rel="icon" href="/favicon.svg" type="image/svg+xml">\n' +
    `<link rel="stylesheet" href="${o.stylesheet}">\n` +
    (o.headExtra ?? '') +
    (o.script ? `<script type="module" src="${o.script}"></script>\n` : '') +
    `</head>\n<body class="${o.bodyClass}">\n${o.body}\n</body>\n</html>\n`
  );
}

const siteHeader = (badge: string): string =>
  `<header class="site-header"><div class="site-header-inner"><a class="brand" href="/">Stoppress</a>${badge}</div></header>`;

/** Top-level updates per page; a story can hold up to STREAM_MAXLEN (10,000) entries. */
export const blogPageLimit = 200;

export interface BlogPageOptions {
  /** PUBLIC_URL (never a request's Host header): the embed snippet's script address. */
  publicUrl: string;
  /** The story's page at PUBLIC_URL: canonical link and JSON-LD ids. */
  pageUrl: string;
  /** The story arranged for reading (computed once per change and shared by its pages). */
  feed: FeedTree;
  /** Show the top-level updates older than this id (an older page); the newest ones when undefined. */
  before?: string;
  /** Top-level updates per page. @default blogPageLimit */
  limit?: number;
}

/**
 * The live blog page: readable without JavaScript. The first page shows the newest `limit` top-level updates
 * (with their reactions) and /assets/blog.js makes it live from `data-last-id`; an older page (`?before=<id>`)
 * is a static archive page. Each links to the next older page while there is one.
 */
export function blogPage(view: StoryView, options: BlogPageOptions): string {
  const { pageUrl, feed, before } = options;
  const { replies } = feed;
  const { top, nextBefore } = pageOfFeed(feed, options.limit ?? blogPageLimit, before);
  const olderLink = nextBefore === null ? '' : `<a rel="next" href="?before=${escapeHtml(nextBefore)}">Older updates</a>`;
  const newestLink = before === undefined ? '' : `<a href="${escapeHtml(pageUrl)}">Newest updates</a>`;
  const more = olderLink || newestLink ? `<p class="feed-more">${[newestLink, olderLink].filter(Boolean).join(' · ')}</p>` : '';
  const canonical = before === undefined ? pageUrl : `${pageUrl}?before=${before}`;
  // The pinned update is shown first, in its own section, on the first page only (and not again in the feed).
  const pinned = before === undefined && view.pinned !== undefined ? view.updates.find((u) => u.id === view.pinned && !u.withdrawn) : undefined;
  const repliesOf = (id: string) => (pinned ? (replies.get(id) ?? []).filter((u) => u.id !== pinned.id) : (replies.get(id) ?? []));
  const shown = pinned ? top.filter((u) => u.id !== pinned.id) : top;
  const keys = keyEvents(view.updates);
  const title = view.title ?? view.story;
  const ended = view.status === 'ended';
  const started = view.coverageStartTime ?? view.updates[0]?.publishedAt;
  const coverage = [
    ended ? '<span class="story-state story-state-ended">Ended</span>' : '<span class="story-state story-state-live">Live</span>',
    started ? `<span>Coverage from ${timeHtml(started, 'absolute')}</span>` : '',
    ended && view.coverageEndTime ? `<span>to ${timeHtml(view.coverageEndTime, 'absolute')}</span>` : '',
  ].join(' ');
  const badge =
    '<span class="status-badge" id="status-badge" data-status="static" role="status" aria-live="polite"><span class="status-dot" aria-hidden="true"></span><span class="status-text">Not live</span></span>';
  const body =
    siteHeader(badge) +
    // In a landmark of its own: content outside every landmark is missed by landmark navigation (axe "region").
    '<nav aria-label="Skip link"><a class="skip-link" href="#feed">Skip to updates</a></nav>' +
    `<main class="live-blog" id="live-blog" data-story="${escapeHtml(view.story)}" data-last-id="${escapeHtml(view.lastId ?? '')}" data-status="${ended ? 'ended' : 'live'}"${before === undefined ? '' : ` data-before="${escapeHtml(before)}"`}>` +
    '<header class="story-header">' +
    `<p class="story-meta">${coverage}</p>` +
    `<h1 class="headline">${escapeHtml(title)}</h1>` +
    (view.summary ? `<p class="summary">${escapeHtml(view.summary)}</p>` : '') +
    '</header>' +
    `<nav class="key-events" aria-labelledby="key-events-title"${keys.length === 0 ? ' hidden' : ''}>` +
    `<h2 id="key-events-title">Key events</h2><ol class="key-event-list">${keys.map(keyEventHtml).join('')}</ol></nav>` +
    `<section class="pinned-post" id="pinned-post" aria-labelledby="pinned-title"${pinned ? '' : ' hidden'}><h2 id="pinned-title" class="visually-hidden">Pinned post</h2>` +
    `<div class="pinned-slot" id="pinned-slot">${pinned ? updateHtml(pinned, { repliesOf, pinned: pinned.id }) : ''}</div></section>` +
    '<section class="updates" aria-labelledby="updates-title">' +
    `<h2 id="updates-title" class="updates-title">${before === undefined ? 'Latest updates' : 'Earlier updates'}</h2>` +
    '<div class="new-updates-bar"><button type="button" class="new-updates" id="new-updates" hidden>New updates</button></div>' +
    `<div class="feed" id="feed">${shown.map((u) => updateHtml(u, { repliesOf })).join('')}</div>` +
    (shown.length === 0 ? `<p class="feed-empty" id="feed-empty">${before === undefined ? 'No updates yet.' : 'No earlier updates.'}</p>` : '') +
    more +
    '</section>' +
    '<div class="visually-hidden" id="announcer" aria-live="polite" aria-atomic="false"></div>' +
    '</main>' +
    '<footer class="site-footer"><p>Times are shown in your time zone when JavaScript is on, in UTC otherwise.</p>' +
    `<details class="embed-snippet"><summary>Embed this live blog</summary><p>Paste into your page:</p><pre><code>${escapeHtml(embedSnippet(options.publicUrl, view.story))}</code></pre></details></footer>`;
  return layout({
    title: `${title} · Live`,
    description: view.summary,
    stylesheet: '/assets/blog.css',
    script: '/assets/blog.js',
    headExtra:
      `<link rel="canonical" href="${escapeHtml(canonical)}">\n` +
      `<meta property="og:title" content="${escapeHtml(title)}">\n` +
      `<script type="application/ld+json">${jsonForScript(liveBlogJsonLd(view, pageUrl))}</script>\n`,
    bodyClass: 'page-blog',
    body,
  });
}

/** The one-line partner embed of a story, pointing at PUBLIC_URL. */
export function embedSnippet(publicUrl: string, story: string): string {
  return `<script src="${publicUrl}/embed.js" data-story="${story}" data-limit="20" async></script>`;
}

/** `GET /`: live stories first, then the others. */
export function indexPage(stories: readonly StorySummary[]): string {
  const item = (s: StorySummary): string =>
    `<li class="story-card"><a href="/stories/${escapeHtml(s.story)}"><span class="story-card-title">${escapeHtml(s.title ?? s.story)}</span></a>` +
    `<span class="story-card-meta">${s.status === 'live' ? '<span class="story-state story-state-live">Live</span> ' : ''}${s.count} update${s.count === 1 ? '' : 's'}` +
    `${s.updatedAt ? ` · last ${timeHtml(s.updatedAt, 'relative')}` : ''}</span></li>`;
  const live = stories.filter((s) => s.status === 'live');
  const other = stories.filter((s) => s.status !== 'live');
  const section = (id: string, title: string, list: readonly StorySummary[], empty: string): string =>
    `<section aria-labelledby="${id}"><h2 id="${id}">${title}</h2>` +
    (list.length === 0 ? `<p class="feed-empty">${empty}</p>` : `<ul class="story-list">${list.map(item).join('')}</ul>`) +
    '</section>';
  const body =
    siteHeader('') +
    '<main class="index">' +
    '<h1 class="headline">Live coverage</h1>' +
    section('live-title', 'Live now', live, 'No story is live right now.') +
    (other.length > 0 ? section('other-title', 'Earlier coverage', other, '') : '') +
    '<p class="index-foot"><a href="/desk">Newsroom desk</a></p>' +
    '</main>';
  // The index only needs relative times refreshed: blog.js does that and finds no live blog to follow.
  return layout({ title: 'Stoppress · Live coverage', stylesheet: '/assets/blog.css', script: '/assets/blog.js', bodyClass: 'page-index', body });
}

/** `GET /desk`: the shell; /assets/desk.js does the rest (it needs the publisher key, which only the browser holds). */
export function deskPage(): string {
  const field = (id: string, label: string, control: string, hint = ''): string =>
    `<div class="field" data-field="${id}"><label for="${id}">${label}</label>${hint ? `<p class="hint" id="${id}-hint">${hint}</p>` : ''}${control}<p class="field-error" id="${id}-error" data-error-for="${id}"></p></div>`;
  const input = (id: string, name: string, attrs = ''): string =>
    `<input id="${id}" name="${name}" aria-describedby="${id}-error" ${attrs}>`;

  const keyPanel =
    '<section class="panel key-panel" id="key-panel" aria-labelledby="key-title">' +
    '<h1 id="key-title">Newsroom desk</h1>' +
    '<form id="key-form" novalidate>' +
    field('key-input', 'Publisher key', input('key-input', 'key', 'type="password" autocomplete="off" spellcheck="false" required'), 'Paste it once: it stays in this browser tab only (sessionStorage) and is sent with each publish.') +
    '<button type="submit" class="primary">Open the desk</button>' +
    '</form></section>';

  const storyForm =
    '<details class="new-story" id="new-story"><summary>New story</summary>' +
    '<form id="story-form" novalidate>' +
    field('story-id', 'Story id', input('story-id', 'story', 'required pattern="[a-z0-9][a-z0-9-]{0,63}" autocomplete="off" spellcheck="false"'), 'a-z, 0-9 and "-"') +
    field('story-title', 'Title', input('story-title', 'title', 'required autocomplete="off"')) +
    field('story-summary', 'Summary', '<textarea id="story-summary" name="summary" rows="3" aria-describedby="story-summary-error"></textarea>') +
    field('story-status', 'Status', '<select id="story-status" name="status" aria-describedby="story-status-error"><option value="live">Live</option><option value="ended">Ended</option></select>') +
    '<p class="form-error" id="story-form-error" role="alert" tabindex="-1"></p>' +
    '<button type="submit" class="primary">Create story</button>' +
    '</form></details>';

  const publishForm =
    '<form id="publish-form" class="publish-form" novalidate aria-labelledby="publish-title">' +
    '<h2 id="publish-title">Publish</h2>' +
    '<fieldset class="kind"><legend>Kind</legend>' +
    '<label><input type="radio" name="kind" value="statement" checked> Statement</label>' +
    '<label><input type="radio" name="kind" value="reaction"> Reaction</label></fieldset>' +
    field('f-inReplyTo', 'In reply to', '<select id="f-inReplyTo" name="inReplyTo" aria-describedby="f-inReplyTo-error" disabled><option value="">(choose an update)</option></select>') +
    '<div class="field-row">' +
    field('f-source-name', 'Source name', input('f-source-name', 'sourceName', 'autocomplete="off"')) +
    field('f-source-role', 'Role', input('f-source-role', 'sourceRole', 'autocomplete="off"')) +
    field('f-source-org', 'Organisation', input('f-source-org', 'sourceOrg', 'autocomplete="off"')) +
    '</div>' +
    field('f-occurredAt', 'Said or happened at', input('f-occurredAt', 'occurredAt', 'type="datetime-local" step="60"'), 'Your local time; it follows the clock until you change it.') +
    field('f-text', 'Text', '<textarea id="f-text" name="text" rows="5" maxlength="10000" aria-describedby="f-text-hint f-text-count f-text-error"></textarea>' +
      '<p class="char-count" id="f-text-count" aria-live="off">0 / 10,000 characters</p>', 'Ctrl+Enter (⌘+Enter on a Mac) publishes.') +
    '<label class="checkbox"><input type="checkbox" id="f-key" name="key"> Key event</label>' +
    '<p class="form-error" id="publish-form-error" role="alert"></p>' +
    '<p class="form-ok" id="publish-form-ok" role="status"></p>' +
    '<button type="submit" class="primary" id="publish-button">Publish</button>' +
    '</form>';

  const correctDialog =
    '<dialog id="correct-dialog" class="correct-dialog" aria-labelledby="correct-title">' +
    '<form id="correct-form" novalidate>' +
    '<h2 id="correct-title">Correct an update</h2>' +
    '<p class="hint" id="correct-target"></p>' +
    field('c-text', 'Corrected text', '<textarea id="c-text" name="text" rows="6" aria-describedby="c-text-error"></textarea>') +
    '<label class="checkbox"><input type="checkbox" id="c-retract" name="retract"> Withdraw the update instead</label>' +
    field('c-note', 'Note for readers', '<textarea id="c-note" name="note" rows="2" aria-describedby="c-note-error"></textarea>', 'Shown under the update, e.g. "An earlier version misspelled the name."') +
    '<p class="form-error" id="correct-form-error" role="alert"></p>' +
    '<div class="dialog-buttons"><button type="submit" class="primary" id="correct-button">Publish correction</button><button type="button" id="correct-cancel">Cancel</button></div>' +
    '</form></dialog>';

  const desk =
    '<div class="desk" id="desk" hidden>' +
    '<nav class="stories-pane" aria-labelledby="stories-title"><h2 id="stories-title">Stories</h2>' +
    '<ul class="desk-story-list" id="story-list"></ul>' +
    storyForm +
    '</nav>' +
    '<main class="story-pane" id="story-pane" aria-labelledby="story-heading">' +
    '<header class="story-pane-head"><h1 id="story-heading">Pick or create a story</h1><a id="story-link" class="story-link" hidden>Reader page</a>' +
    '<button type="button" class="small" id="edit-story-toggle" hidden>Edit story</button>' +
    '<button type="button" class="small" id="coverage-toggle" hidden>End coverage</button><p class="form-error" id="coverage-error" role="alert"></p>' +
    '<div class="coverage-confirm" id="coverage-confirm" role="group" aria-labelledby="coverage-confirm-text" hidden>' +
    '<p id="coverage-confirm-text">End coverage now? Every reader\'s page will show the story as ended.</p>' +
    '<button type="button" class="primary small" id="coverage-confirm-yes">Yes, end coverage</button> <button type="button" class="small" id="coverage-confirm-no">Cancel</button></div>' +
    '<form id="edit-form" class="edit-form" novalidate aria-label="Edit story" hidden>' +
    field('e-title', 'Title', input('e-title', 'title', 'required autocomplete="off"')) +
    field('e-summary', 'Summary', '<textarea id="e-summary" name="summary" rows="3" aria-describedby="e-summary-error"></textarea>', 'Leave it empty to remove the summary.') +
    '<p class="form-error" id="edit-form-error" role="alert" tabindex="-1"></p>' +
    '<button type="submit" class="primary" id="edit-save">Save changes</button> <button type="button" id="edit-cancel">Cancel</button>' +
    '</form></header>' +
    '<div id="story-work" class="story-work" hidden>' +
    publishForm +
    '<section class="desk-feed-section" aria-labelledby="desk-feed-title"><h2 id="desk-feed-title">Updates</h2><div class="feed desk-feed" id="desk-feed"></div></section>' +
    '</div></main></div>';

  const badge =
    '<span class="status-badge" id="status-badge" data-status="static" role="status"><span class="status-dot" aria-hidden="true"></span><span class="status-text">Not connected</span></span>' +
    '<button type="button" class="link-button" id="forget-key" hidden>Forget key</button>';
  const body =
    siteHeader(badge) +
    '<noscript><p class="panel">The desk needs JavaScript.</p></noscript>' +
    '<div class="desk-root" id="desk-root">' +
    keyPanel +
    desk +
    correctDialog +
    '</div>';
  return layout({ title: 'Stoppress · Desk', stylesheet: '/assets/desk.css', script: '/assets/desk.js', bodyClass: 'page-desk', body });
}

/** An error page (404 for unknown stories, 503 when Redis is away). */
export function errorPage(status: number, message: string): string {
  const heading = status === 404 ? 'Not found' : status >= 500 ? 'Temporarily unavailable' : 'Something went wrong';
  const body =
    siteHeader('') +
    `<main class="index"><h1 class="headline">${heading}</h1><p>${escapeHtml(message)}</p><p><a href="/">All live coverage</a></p></main>`;
  return layout({ title: `Stoppress · ${heading}`, stylesheet: '/assets/blog.css', bodyClass: 'page-error', body });
}
