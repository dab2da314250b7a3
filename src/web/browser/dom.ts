/** Small DOM helpers shared by the page scripts. */

/** The first element of an HTML string built by the shared renderers (which escape all newsroom text). */
export function elementFromHtml(html: string): HTMLElement {
  const template = document.createElement('template');
  template.innerHTML = html;
  const element = template.content.firstElementChild;
  if (!(element instanceof HTMLElement)) throw new Error('renderer produced no element');
  return element;
}

/** An element by id that the page must have. */
export function required<T extends HTMLElement = HTMLElement>(id: string, root: Document | ShadowRoot = document): T {
  const element = root.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

/**
 * Announces short messages through a polite live region, a few at most per second: messages arriving within
 * `batchMs` are joined, so a burst of updates is one announcement, not a queue of them.
 */
export function createAnnouncer(region: HTMLElement, batchMs = 1_000): (message: string) => void {
  let queued: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (message) => {
    queued.push(message);
    timer ??= setTimeout(() => {
      const text = queued.length > 3 ? `${queued.length} new updates.` : queued.join(' ');
      queued = [];
      timer = undefined;
      // A new text node in the region is announced even when the text repeats an earlier one.
      region.replaceChildren(document.createTextNode(text));
    }, batchMs);
  };
}

/** Status labels of the client library's connection statuses. */
export const statusLabels = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
} as const;

/** Sets a status badge (`data-status` drives its colour; `.status-text` its words). */
export function setBadge(badge: HTMLElement, status: keyof typeof statusLabels, label: string = statusLabels[status]): void {
  badge.dataset.status = status;
  const text = badge.querySelector('.status-text');
  if (text) text.textContent = label;
}
