import { compareUpdateIds } from '../protocol/ids.js';
import type { StoryView, ViewUpdate } from '../protocol/update.js';
import type { CachedStory } from '../read/story-cache.js';
import { arrangeFeed, type FeedTree } from './feed-tree.js';

/** One page of a story's top-level updates. */
export interface FeedPage {
  /** The page's top-level updates, newest first. */
  top: ViewUpdate[];
  /** The page's top-level updates and every reaction under them (reactions to reactions too), oldest first. */
  updates: ViewUpdate[];
  /** The id to pass as `before` for the next older page; null when this page reaches the oldest update. */
  nextBefore: string | null;
}

/**
 * The newest `limit` top-level updates older than `before` (all when undefined), with the reactions under them.
 * Top-level is as the page arranges it (feed-tree.ts): a statement, a reaction without `inReplyTo`, or a
 * reaction whose target is no longer retained. Pure; `feed.top` is newest first, so the cursor is a binary search.
 */
export function pageOfFeed(feed: FeedTree, limit: number, before: string | undefined): FeedPage {
  let start = 0;
  if (before !== undefined) {
    let low = 0;
    let high = feed.top.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareUpdateIds(feed.top[middle]!.id, before) < 0) high = middle;
      else low = middle + 1;
    }
    start = low;
  }
  const top = feed.top.slice(start, start + limit);
  const updates: ViewUpdate[] = [];
  const collect = (update: ViewUpdate): void => {
    updates.push(update);
    for (const reply of feed.replies.get(update.id) ?? []) collect(reply);
  };
  for (const update of top) collect(update);
  updates.sort((a, b) => compareUpdateIds(a.id, b.id));
  const nextBefore = start + limit < feed.top.length && top.length > 0 ? top.at(-1)!.id : null;
  return { top, updates, nextBefore };
}

/** The story arranged for reading, computed once per cached change and shared by its pages and paged views. */
export function feedOf(story: CachedStory): FeedTree {
  return story.derive('feed', (snapshot) => arrangeFeed(snapshot.view.updates));
}

/** A paged story view: the view's metadata and `lastId` (always the stream's newest), one page of updates, the cursor. */
export function pagedView(story: CachedStory, limit: number, before: string | undefined): StoryView {
  const { updates: _all, ...rest } = story.snapshot.view;
  const page = pageOfFeed(feedOf(story), limit, before);
  return { ...rest, updates: page.updates, nextBefore: page.nextBefore };
}
