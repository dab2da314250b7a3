/**
 * Makes the server-rendered live blog page live (bundled to /assets/blog.js). It follows the story from the
 * page's `data-last-id` with the client library, which delivers each later update once and in order, across
 * reconnects. New updates go on top while the reader is at the top; a reader who has scrolled down keeps their
 * place and gets a "N new updates" button instead. Corrections change the text in place. On the index page
 * (no live blog) it only keeps the times current.
 */
import { connect } from '../../client/index.js';
import type { StoryChange, StoryView, Update, UpdateImage, ViewUpdate } from '../../protocol/update.js';
import { applyCorrection, type CorrectableUpdate } from '../../protocol/corrections.js';
import { compareUpdateIds } from '../../protocol/ids.js';
import { arrangeFeed, keyEvents } from '../feed-tree.js';
import { excerpt, keyEventHtml, updateContentHtml, updateHtml } from '../render-update.js';
import { createAnnouncer, elementFromHtml, required, setBadge } from './dom.js';
import { keepTimesCurrent, refreshTimes } from './times.js';

/** Top-level updates on the first page (render-pages.ts `blogPageLimit`): what a reset reloads. */
const pageLimit = 200;

/** The feed's top may be this far above the viewport and still count as "the reader is at the top". */
const nearTopSlackPx = 48;

keepTimesCurrent(document);
const main = document.getElementById('live-blog');
// An older page (`?before=`) is an archive: new updates belong on the first page, so it does not follow the story.
if (main && main.dataset.before === undefined) startLiveBlog(main);

function startLiveBlog(main: HTMLElement): void {
  const story = main.dataset.story ?? '';
  let ended = main.dataset.status === 'ended';
  let lastStatus: Parameters<typeof setBadge>[1] = 'connecting';
  const feed = required('feed');
  const pinnedSection = required('pinned-post');
  const pinnedSlot = required('pinned-slot');
  const newButton = required<HTMLButtonElement>('new-updates');
  const badge = required('status-badge');
  const keyNav = main.querySelector<HTMLElement>('.key-events');
  const keyList = main.querySelector<HTMLElement>('.key-event-list');
  const announce = createAnnouncer(required('announcer'));
  /** Updates received while the reader was scrolled down, oldest first; corrections are folded into them. */
  let pending: ViewUpdate[] = [];

  const nearTop = (): boolean => feed.getBoundingClientRect().top > -nearTopSlackPx;
  const has = (id: string): boolean => document.getElementById(`u-${id}`) !== null || pending.some((u) => u.id === id);

  const showPendingButton = (): void => {
    const count = pending.length;
    newButton.hidden = count === 0;
    newButton.textContent = `${count} new update${count === 1 ? '' : 's'}`;
  };

  /** Inserts one update where it belongs: under the update it replies to, else on top of the feed. */
  const insert = (update: ViewUpdate): HTMLElement => {
    const element = elementFromHtml(updateHtml(update));
    element.classList.add('is-new');
    const parent = update.inReplyTo === undefined ? null : document.getElementById(`u-${update.inReplyTo}`);
    if (parent) reactionsOf(parent).append(element);
    else feed.prepend(element);
    document.getElementById('feed-empty')?.remove();
    if (update.key && !update.withdrawn && keyList && keyNav) {
      keyList.prepend(elementFromHtml(keyEventHtml(update)));
      refreshTimes(keyList);
      keyNav.hidden = false;
    }
    refreshTimes(element);
    return element;
  };

  /** Reveals every pending update; from the button, also moves the reader (and the focus) to the newest one. */
  const reveal = (moveReader: boolean): void => {
    const revealed = pending.map(insert);
    pending = [];
    showPendingButton();
    const first = revealed.find((el) => el.parentElement === feed) ? feed.firstElementChild : revealed[0];
    if (moveReader && first instanceof HTMLElement) {
      first.scrollIntoView({ block: 'start' });
      first.focus({ preventScroll: true });
    }
  };

  /** A reaction whose place is entirely below the viewport can go in at once: nothing the reader sees moves. */
  const placeIsBelowViewport = (update: ViewUpdate): boolean => {
    const parent = update.inReplyTo === undefined ? null : document.getElementById(`u-${update.inReplyTo}`);
    return parent !== null && parent.getBoundingClientRect().bottom > window.innerHeight;
  };

  const onUpdate = (update: Update): void => {
    if (update.kind === 'correction') return onCorrection(update);
    if (has(update.id)) return;
    if (pending.length === 0 && (nearTop() || placeIsBelowViewport(update))) {
      insert(update);
      announce(`New update: ${excerpt(update, 160)}`);
    } else {
      pending.push(update);
      showPendingButton();
      announce(`${pending.length} new update${pending.length === 1 ? '' : 's'} above.`);
    }
  };

  const onCorrection = (correction: Update): void => {
    const targetId = correction.corrects;
    if (targetId === undefined) return;
    const index = pending.findIndex((u) => u.id === targetId);
    if (index >= 0) {
      pending[index] = applyCorrection(pending[index]!, correction);
      return;
    }
    const article = document.getElementById(`u-${targetId}`);
    if (!article) return;
    const content = article.querySelector<HTMLElement>(':scope > .update-content');
    if (!content) return;
    const current = stateOf(article, content);
    const next = applyCorrection(current, correction);
    if (next === current) return;
    const historyWasOpen = content.querySelector('details')?.open ?? false;
    const replacement = elementFromHtml(updateContentHtml(next));
    const details = replacement.querySelector('details');
    if (details) details.open = historyWasOpen;
    content.replaceWith(replacement);
    refreshTimes(replacement);
    refreshKeyEvent(article, next);
    // A withdrawn update is not shown as the pinned post (the server page leaves it out too).
    if (next.withdrawn && article.parentElement === pinnedSlot) {
      setFlag(article, 'pinned', false);
      placeInFeed(article);
      pinnedSection.hidden = true;
    }
    announce(correction.retract ? 'An update was withdrawn.' : `An update was corrected: ${correction.note ?? ''}`);
  };

  const refreshKeyEvent = (article: HTMLElement, next: CorrectableUpdate): void => {
    const entry = keyList?.querySelector(`li[data-id="${article.dataset.id}"]`);
    if (!entry) return;
    if (next.withdrawn) {
      entry.remove();
      if (keyNav && keyList?.childElementCount === 0) keyNav.hidden = true;
      return;
    }
    const name = article.querySelector(':scope > .source .source-name')?.textContent ?? undefined;
    const replacement = elementFromHtml(keyEventHtml({ id: article.dataset.id ?? '', ...next, ...(name ? { source: { name } } : {}) }));
    entry.replaceWith(replacement);
    refreshTimes(replacement);
  };

  /** The pinned update's id, as the page shows it. */
  let pinnedId = pinnedSlot.querySelector<HTMLElement>(':scope > article')?.dataset.id;

  /** Puts an article back in the feed where it belongs: under the update it replies to, else in id order. */
  const placeInFeed = (article: HTMLElement): void => {
    const parentId = article.dataset.inReplyTo;
    const parent = parentId === undefined ? null : document.getElementById(`u-${parentId}`);
    if (parent && !article.contains(parent)) {
      const group = reactionsOf(parent);
      const next = [...group.children].find((el) => compareUpdateIds((el as HTMLElement).dataset.id ?? '0-0', article.dataset.id ?? '0-0') > 0);
      group.insertBefore(article, next ?? null);
      return;
    }
    const next = [...feed.children].find((el) => compareUpdateIds((el as HTMLElement).dataset.id ?? '0-0', article.dataset.id ?? '0-0') < 0);
    feed.insertBefore(article, next ?? null);
  };

  const setFlag = (article: HTMLElement, name: 'key' | 'pinned', on: boolean): void => {
    const head = article.querySelector<HTMLElement>(':scope > .update-head');
    const existing = head?.querySelector(`:scope > .flag-${name}`);
    if (name === 'key') {
      if (on) article.dataset.key = '';
      else delete article.dataset.key;
    }
    if (on && !existing && head) head.prepend(elementFromHtml(`<span class="flag flag-${name}">${name === 'key' ? 'Key event' : 'Pinned'}</span>`));
    if (!on) existing?.remove();
    // "Pinned" comes first, as the server writes it.
    const pinnedFlag = head?.querySelector(':scope > .flag-pinned');
    if (pinnedFlag && head?.firstElementChild !== pinnedFlag) head?.prepend(pinnedFlag);
  };

  const applyPinned = (next: string | undefined): void => {
    if (next === pinnedId) return;
    const previous = pinnedId === undefined ? null : document.getElementById(`u-${pinnedId}`);
    if (previous) {
      setFlag(previous, 'pinned', false);
      placeInFeed(previous);
    }
    pinnedId = next;
    const article = next === undefined ? null : document.getElementById(`u-${next}`);
    if (article && !article.querySelector('.withdrawn-text')) {
      setFlag(article, 'pinned', true);
      pinnedSlot.replaceChildren(article);
    }
    pinnedSection.hidden = pinnedSlot.childElementCount === 0;
  };

  const applyKey = (id: string, key: boolean): void => {
    const pendingIndex = pending.findIndex((u) => u.id === id);
    if (pendingIndex >= 0) {
      const { key: _old, ...rest } = pending[pendingIndex]!;
      pending[pendingIndex] = key ? { ...rest, key: true } : rest;
      return;
    }
    const article = document.getElementById(`u-${id}`);
    if (!article) return;
    setFlag(article, 'key', key);
    const entry = keyList?.querySelector(`li[data-id="${id}"]`);
    if (!key) entry?.remove();
    else if (!entry && keyList && !article.querySelector('.withdrawn-text')) {
      const text = article.querySelector<HTMLElement>(':scope > .update-content .update-text')?.innerText ?? '';
      const name = article.querySelector(':scope > .source .source-name')?.textContent ?? undefined;
      const publishedAt = article.querySelector<HTMLTimeElement>(':scope > .update-head time')?.dateTime ?? new Date().toISOString();
      const item = elementFromHtml(keyEventHtml({ id, publishedAt, text, ...(name ? { source: { name } } : {}) }));
      const next = [...keyList.children].find((el) => compareUpdateIds((el as HTMLElement).dataset.id ?? '0-0', id) < 0);
      keyList.insertBefore(item, next ?? null);
      refreshTimes(item);
    }
    if (keyNav && keyList) keyNav.hidden = keyList.childElementCount === 0;
  };

  /** A story change: the header (title, summary, LIVE/ENDED) at once, an update's key flag, the pinned post. */
  const onStoryChange = (change: StoryChange): void => {
    applyMeta(change.meta);
    if (change.flags?.key !== undefined) applyKey(change.flags.update, change.flags.key);
    applyPinned(change.meta.pinned);
  };

  /** The header as the metadata says: title, summary, LIVE/ENDED. */
  const applyMeta = (meta: StoryChange['meta']): void => {
    const headline = main.querySelector<HTMLElement>('.headline');
    const title = meta.title ?? story;
    if (headline && headline.textContent !== title) {
      headline.textContent = title;
      document.title = `${title} · Live`;
    }
    let summary = main.querySelector<HTMLElement>('.summary');
    if (meta.summary === undefined) summary?.remove();
    else {
      if (!summary) {
        summary = elementFromHtml('<p class="summary"></p>');
        headline?.after(summary);
      }
      summary.textContent = meta.summary;
    }
    const nowEnded = meta.status === 'ended';
    if (nowEnded !== ended) {
      ended = nowEnded;
      main.dataset.status = ended ? 'ended' : 'live';
      const state = main.querySelector<HTMLElement>('.story-state');
      if (state) {
        state.className = `story-state story-state-${ended ? 'ended' : 'live'}`;
        state.textContent = ended ? 'Ended' : 'Live';
      }
      setBadge(badge, lastStatus, lastStatus === 'live' && ended ? 'Up to date' : undefined);
      announce(ended ? 'Live coverage of this story has ended.' : 'Live coverage of this story has resumed.');
    }
  };

  const onReset = (view: StoryView): void => {
    const { top, replies } = arrangeFeed(view.updates);
    feed.replaceChildren(...top.map((u) => elementFromHtml(updateHtml(u, { repliesOf: (id) => replies.get(id) ?? [] }))));
    pinnedId = undefined;
    pinnedSlot.replaceChildren();
    applyPinned(view.pinned);
    applyMeta(view);
    if (keyList && keyNav) {
      const keys = keyEvents(view.updates);
      keyList.replaceChildren(...keys.map((u) => elementFromHtml(keyEventHtml(u))));
      keyNav.hidden = keys.length === 0;
    }
    pending = [];
    showPendingButton();
    main.dataset.lastId = view.lastId ?? '';
    refreshTimes(main);
    announce('The page was reloaded with the latest updates.');
  };

  newButton.addEventListener('click', () => reveal(true));
  let scrollQueued = false;
  window.addEventListener(
    'scroll',
    () => {
      if (scrollQueued || pending.length === 0) return;
      scrollQueued = true;
      requestAnimationFrame(() => {
        scrollQueued = false;
        if (pending.length > 0 && nearTop()) reveal(false);
      });
    },
    { passive: true },
  );

  setBadge(badge, 'connecting');
  const live = connect(location.origin);
  // Without updates the page has no lastId: "0-0" asks for everything, so nothing published meanwhile is missed.
  // A reset reloads only what the first page shows.
  live.follow(story, { since: main.dataset.lastId || '0-0', resetLimit: pageLimit }, {
    update: onUpdate,
    correction: onCorrection,
    story: onStoryChange,
    reset: onReset,
    status: (status) => {
      lastStatus = status;
      setBadge(badge, status, status === 'live' && ended ? 'Up to date' : undefined);
    },
    error: (error) => {
      if (!error.willRetry && error.code !== 'handler_failed') setBadge(badge, 'offline', 'Not live');
    },
  });
}

/** The reactions group of an update, created on its first reaction. */
function reactionsOf(article: HTMLElement): HTMLElement {
  const existing = article.querySelector<HTMLElement>(':scope > .reactions');
  if (existing) return existing;
  const group = elementFromHtml('<div class="reactions" role="group" aria-label="Reactions"></div>');
  article.append(group);
  return group;
}

/** What a correction needs to know of a rendered update, read back from its markup. */
function stateOf(article: HTMLElement, content: HTMLElement): CorrectableUpdate & { image?: UpdateImage } {
  const text = content.querySelector<HTMLElement>('.update-text');
  const image = imageOf(content);
  return {
    ...(image ? { image } : {}),
    publishedAt: article.querySelector<HTMLTimeElement>(':scope > .update-head time')?.dateTime ?? new Date().toISOString(),
    ...(text?.lang ? { lang: text.lang } : {}),
    ...(content.querySelector('.withdrawn-text') ? { withdrawn: true } : {}),
    corrections: [...content.querySelectorAll<HTMLElement>('li[data-correction-id]')].map((li) => ({
      id: li.dataset.correctionId ?? '',
      publishedAt: li.querySelector('time')?.dateTime ?? '',
      note: li.querySelector('.history-note')?.textContent ?? '',
      ...(li.dataset.retract !== undefined ? { retract: true } : {}),
    })),
  };
}

/** An update's picture read back from its markup (a correction re-renders the content and must keep it). */
function imageOf(content: HTMLElement): UpdateImage | undefined {
  const img = content.querySelector<HTMLImageElement>('.update-image img');
  if (!img) return undefined;
  const caption = content.querySelector('.update-image .image-caption')?.textContent;
  const credit = content.querySelector('.update-image .image-credit')?.textContent;
  const width = img.getAttribute('width');
  const height = img.getAttribute('height');
  return {
    url: img.getAttribute('src') ?? '',
    alt: img.alt,
    ...(caption ? { caption } : {}),
    ...(credit ? { credit } : {}),
    ...(width && height ? { width: Number(width), height: Number(height) } : {}),
  };
}
