import type { ViewUpdate } from '../protocol/update.js';
import { compareUpdateIds } from '../protocol/ids.js';

/** A story's updates arranged for reading: top-level items newest first, reactions under what they reply to. */
export interface FeedTree {
  /** Statements, and reactions whose target is not in the view, newest first. */
  top: ViewUpdate[];
  /** Update id → its reactions, oldest first (a thread reads top to bottom). */
  replies: Map<string, ViewUpdate[]>;
}

/** Arranges the view's updates (any order) into a FeedTree. Pure; shared by the server page and the browser. */
export function arrangeFeed(updates: readonly ViewUpdate[]): FeedTree {
  const byId = new Map(updates.map((u) => [u.id, u]));
  const sorted = [...updates].sort((a, b) => compareUpdateIds(a.id, b.id));
  const top: ViewUpdate[] = [];
  const replies = new Map<string, ViewUpdate[]>();
  for (const update of sorted) {
    const parent = update.inReplyTo;
    if (parent !== undefined && parent !== update.id && byId.has(parent)) {
      const list = replies.get(parent);
      if (list) list.push(update);
      else replies.set(parent, [update]);
    } else {
      top.push(update);
    }
  }
  top.reverse();
  return { top, replies };
}

/** Key events, newest first. */
export function keyEvents(updates: readonly ViewUpdate[]): ViewUpdate[] {
  return updates.filter((u) => u.key === true && !u.withdrawn).sort((a, b) => compareUpdateIds(b.id, a.id));
}
