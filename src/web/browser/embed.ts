/**
 * The partner embed (bundled as a classic script to /embed.js):
 *
 *   <script src="https://live.example/embed.js" data-story="russia-troops-2022-02-15" async></script>
 *
 * renders the story's latest updates in a `<stoppress-embed>` element after its own script tag, inside a Shadow
 * DOM root, and keeps them live. The host's `data-state` says "loading", "ready" or "error"; on error, its
 * `data-error` says which (see EmbedError), with a message of its own. The "Live" pill shows only while the
 * connection is live and the story's coverage has not ended.
 * It talks to the origin it was loaded from (the story over CORS, the socket with the partner's Origin, both
 * checked against ALLOWED_ORIGINS). Attributes: `data-theme` ("light" | "dark", default light), `data-limit`
 * (updates shown, 1-100, default 20). It is an IIFE, not a module: a partner pastes a plain `<script src>`,
 * `document.currentScript` exists only for classic scripts, and the bundle's names stay out of the page's globals.
 */
import { connect } from '../../client/index.js';
import type { StoryChange, StoryView, Update, ViewUpdate } from '../../protocol/update.js';
import { applyCorrection, applyFlags } from '../../protocol/corrections.js';
import { escapeHtml } from '../escape.js';
import { excerpt, updateHtml } from '../render-update.js';
import { compareUpdateIds } from '../../protocol/ids.js';
import { createAnnouncer, elementFromHtml, setBadge } from './dom.js';
import { embedCss } from './embed-styles.js';
import { keepTimesCurrent, refreshTimes } from './times.js';

/**
 * Why the embed shows no updates:
 * - `origin_refused`: the service answers, but not to this page's origin (it is not in ALLOWED_ORIGINS): the
 *   browser blocks the CORS read, while a no-cors request to the same URL gets through;
 * - `not_found`: 404: no such story, or a private one this page has no token for (the service does not say
 *   which, so the message covers both);
 * - `unavailable`: the service cannot be reached or answered with another error.
 */
export type EmbedError = 'origin_refused' | 'not_found' | 'token_refused' | 'unavailable';

/** What the reader is told for each EmbedError. */
const embedErrorMessages: Readonly<Record<EmbedError, string>> = Object.freeze({
  origin_refused: 'These live updates cannot be shown on this site: the newsroom has not allowed it.',
  not_found: 'This live story does not exist or is not public.',
  token_refused: 'This live story is private, and its access token was refused or has expired.',
  unavailable: 'The live updates cannot be reached right now.',
});

/** A failure of the first read, classified. */
class EmbedLoadError extends Error {
  readonly reason: EmbedError;

  constructor(reason: EmbedError) {
    super(reason);
    this.reason = reason;
  }
}

/** @default 20 */
const defaultLimit = 20;
const maxLimit = 100;

mountEmbed();

function mountEmbed(): void {
  const script = ownScriptTag();
  if (!script) return;
  script.dataset.stoppressMounted = '';
  const story = script.dataset.story ?? '';
  // A private story's subscriber token (minted by the partner's server for this page): sent with the read
  // and, on the socket, in an auth frame.
  const token = script.dataset.token;
  const origin = new URL(script.src, location.href).origin;
  const theme = script.dataset.theme === 'dark' ? 'dark' : 'light';
  const parsedLimit = Number.parseInt(script.dataset.limit ?? '', 10);
  const limit = Number.isFinite(parsedLimit) ? Math.min(maxLimit, Math.max(1, parsedLimit)) : defaultLimit;
  const pageUrl = `${origin}/stories/${encodeURIComponent(story)}`;

  // A custom element name rather than a div: the partner's element rules (div, section…) do not reach the host.
  const host = document.createElement('stoppress-embed');
  host.dataset.story = story;
  host.dataset.theme = theme;
  host.dataset.state = 'loading';
  script.after(host);
  const root = host.attachShadow({ mode: 'open' });
  adoptStyles(root);
  root.append(
    elementFromHtml(
      `<section class="sp" data-state="loading" aria-label="Live updates">` +
        `<header class="sp-head"><span class="sp-live" hidden>Live</span><a class="sp-title" href="${escapeHtml(pageUrl)}" target="_blank" rel="noopener">Live updates</a>` +
        `<span class="status-badge" data-status="connecting"><span class="status-dot" aria-hidden="true"></span><span class="status-text">Connecting…</span></span></header>` +
        `<p class="sp-state" role="status">Loading live updates…</p>` +
        `<div class="sp-feed"></div>` +
        `<footer class="sp-foot"><a href="${escapeHtml(pageUrl)}" target="_blank" rel="noopener">Full coverage</a><span>Live updates by Stoppress</span></footer>` +
        `<div class="visually-hidden" aria-live="polite"></div>` +
        `</section>`,
    ),
  );
  const section = root.querySelector<HTMLElement>('.sp')!;
  const title = root.querySelector<HTMLElement>('.sp-title')!;
  const state = root.querySelector<HTMLElement>('.sp-state')!;
  const feed = root.querySelector<HTMLElement>('.sp-feed')!;
  const badge = root.querySelector<HTMLElement>('.status-badge')!;
  const livePill = root.querySelector<HTMLElement>('.sp-live')!;
  let connectionLive = false;
  let coverageEnded = false;
  // Says LIVE only when it is: the socket is live and the newsroom has not ended the coverage.
  const showLivePill = (): void => {
    livePill.hidden = !(connectionLive && !coverageEnded);
  };
  const announce = createAnnouncer(root.querySelector<HTMLElement>('[aria-live]')!);
  /** Newest first, at most `limit`. */
  let items: ViewUpdate[] = [];
  /** The pinned update, shown first (kept apart from `items`, so the newest `limit` stay whatever its age). */
  let pinnedId: string | undefined;

  const setState = (next: 'loading' | 'ready' | 'error', message = ''): void => {
    section.dataset.state = next;
    host.dataset.state = next;
    if (next !== 'error') delete host.dataset.error;
    state.textContent = message;
  };

  const fail = (reason: EmbedError): void => {
    connectionLive = false;
    showLivePill();
    setBadge(badge, 'offline', 'Unavailable');
    setState('error', embedErrorMessages[reason]);
    host.dataset.error = reason;
  };

  const render = (newId?: string): void => {
    const pinned = items.find((u) => u.id === pinnedId && !u.withdrawn);
    const ordered = pinned ? [pinned, ...items.filter((u) => u !== pinned)] : items;
    feed.replaceChildren(
      ...ordered.map((u) => {
        const element = elementFromHtml(updateHtml(u, { permalinkBase: pageUrl, pinned: pinned?.id }));
        if (u.id === newId) element.classList.add('is-new');
        if (u === pinned) element.classList.add('is-pinned');
        return element;
      }),
    );
    refreshTimes(feed);
    if (items.length === 0) setState('ready', 'No updates yet.');
  };

  const showMeta = (meta: Pick<StoryView, 'title' | 'status'>): void => {
    title.textContent = meta.title ?? story;
    section.setAttribute('aria-label', `Live updates: ${meta.title ?? story}`);
    coverageEnded = meta.status === 'ended';
    section.dataset.status = coverageEnded ? 'ended' : 'live';
    showLivePill();
  };

  const show = (view: StoryView): void => {
    items = view.updates.sort((a, b) => compareUpdateIds(b.id, a.id)).slice(0, limit);
    pinnedId = view.pinned;
    showMeta(view);
    setState('ready');
    render();
  };

  const onStoryChange = (change: StoryChange): void => {
    const wasEnded = section.dataset.status === 'ended';
    showMeta(change.meta);
    pinnedId = change.meta.pinned;
    if (change.flags) items = items.map((u) => applyFlags(u, change));
    render();
    if (!wasEnded && change.meta.status === 'ended') announce('Live coverage has ended.');
  };

  const onUpdate = (update: Update): void => {
    if (update.kind === 'correction') return onCorrection(update);
    if (items.some((u) => u.id === update.id)) return;
    items = [update, ...items].slice(0, limit);
    setState('ready');
    render(update.id);
    announce(`New update: ${excerpt(update, 160)}`);
  };

  const onCorrection = (correction: Update): void => {
    const index = items.findIndex((u) => u.id === correction.corrects);
    if (index < 0) return;
    items[index] = applyCorrection(items[index]!, correction);
    render();
    announce(correction.retract ? 'An update was withdrawn.' : 'An update was corrected.');
  };

  // Only what it shows: the newest `limit` top-level updates (with their reactions), never the whole story.
  const viewUrl = `${origin}/v1/stories/${encodeURIComponent(story)}?limit=${limit}${token ? `&token=${encodeURIComponent(token)}` : ''}`;
  fetch(viewUrl, { headers: { accept: 'application/json' } })
    .then(
      async (response) => {
        if (response.status === 404) throw new EmbedLoadError('not_found');
        if (response.status === 401) throw new EmbedLoadError('token_refused');
        if (!response.ok) throw new EmbedLoadError('unavailable');
        return (await response.json()) as StoryView;
      },
      // A CORS refusal and a network failure look the same to a page; a no-cors request tells them apart:
      // it gets an (opaque) answer only when the service is reachable, that is, when the origin was refused.
      () =>
        fetch(viewUrl, { mode: 'no-cors' }).then(
          () => Promise.reject(new EmbedLoadError('origin_refused')),
          () => Promise.reject(new EmbedLoadError('unavailable')),
        ),
    )
    .then((view) => {
      show(view);
      keepTimesCurrent(root);
      const live = connect(origin, token ? { token } : {});
      live.follow(story, { view, resetLimit: limit }, {
        update: onUpdate,
        correction: onCorrection,
        story: onStoryChange,
        reset: show,
        status: (status) => {
          connectionLive = status === 'live';
          showLivePill();
          setBadge(badge, status);
        },
        error: (error) => {
          if (!error.willRetry && error.code !== 'handler_failed') {
            connectionLive = false;
            showLivePill();
            setBadge(badge, 'offline', 'Not live');
          }
        },
      });
    })
    .catch((error: unknown) => {
      // The partner's page is left alone; the reason is in the message and in the host's data-error.
      fail(error instanceof EmbedLoadError ? error.reason : 'unavailable');
    });
}

/** This script's tag: `currentScript` while it runs synchronously; for async loads, the first embed tag not yet mounted. */
function ownScriptTag(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement && current.dataset.story !== undefined && current.dataset.stoppressMounted === undefined) return current;
  return document.querySelector<HTMLScriptElement>('script[src$="embed.js"][data-story]:not([data-stoppress-mounted])');
}

/** Constructable stylesheets where supported (no `<style>` element, so a partner's strict style-src does not block them). */
function adoptStyles(root: ShadowRoot): void {
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet === 'function' && 'replaceSync' in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(embedCss);
    root.adoptedStyleSheets = [sheet];
    return;
  }
  const style = document.createElement('style');
  style.textContent = embedCss;
  root.append(style);
}
