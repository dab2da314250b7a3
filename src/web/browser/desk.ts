/**
 * The newsroom desk (bundled to /assets/desk.js). The editor pastes a publisher key once (kept in
 * sessionStorage, so it dies with the tab), then picks or creates a story, publishes statements and reactions,
 * and corrects updates. Every story in the list is followed on one socket (one `connect`, one `follow` each);
 * the ones not on screen count their unread updates. Each form keeps one Idempotency-Key until a submission
 * succeeds, so a retry after a network error or a double click never publishes twice.
 */
import { connect } from '../../client/index.js';
import type { StoryChange, StorySummary, StoryView, Update, ViewUpdate } from '../../protocol/update.js';
import { applyCorrection, applyFlags } from '../../protocol/corrections.js';
import { escapeHtml } from '../escape.js';
import { arrangeFeed } from '../feed-tree.js';
import { excerpt, updateHtml } from '../render-update.js';
import { compareUpdateIds } from '../../protocol/ids.js';
import { callApi, DeskApiError, Submission } from './desk-api.js';
import { elementFromHtml, required, setBadge } from './dom.js';
import { FormErrors, isoWithOffset, localInputToIso, toLocalInputValue } from './form-errors.js';
import { auditLineHtml, loadUpdateAudit, type UpdateAudit } from './desk-audit.js';
import { storyPanel, type StoryMeta } from './desk-story-panel.js';
import { keepTimesCurrent, refreshTimes } from './times.js';

const keyStorageName = 'stoppress.publisherKey';
/** Stories followed at once; the server allows 100 per socket. */
const maxFollowed = 90;
const storyListRefreshMs = 30_000;

type LiveConnection = ReturnType<typeof connect>;
type Follow = ReturnType<LiveConnection['follow']>;

interface StoryEntry {
  summary: StorySummary;
  unread: number;
  follow?: Follow;
}

const ui = {
  badge: required('status-badge'),
  forgetKey: required<HTMLButtonElement>('forget-key'),
  keyPanel: required('key-panel'),
  keyForm: required<HTMLFormElement>('key-form'),
  keyInput: required<HTMLInputElement>('key-input'),
  desk: required('desk'),
  storyList: required('story-list'),
  storyHeading: required('story-heading'),
  storyLink: required<HTMLAnchorElement>('story-link'),
  coverageError: required('coverage-error'),
  storyWork: required('story-work'),
  publishForm: required<HTMLFormElement>('publish-form'),
  inReplyTo: required<HTMLSelectElement>('f-inReplyTo'),
  occurredAt: required<HTMLInputElement>('f-occurredAt'),
  text: required<HTMLTextAreaElement>('f-text'),
  textCount: required('f-text-count'),
  keyEvent: required<HTMLInputElement>('f-key'),
  publishOk: required('publish-form-ok'),
  publishButton: required<HTMLButtonElement>('publish-button'),
  feed: required('desk-feed'),
  dialog: required<HTMLDialogElement>('correct-dialog'),
  correctForm: required<HTMLFormElement>('correct-form'),
  correctTarget: required('correct-target'),
  correctText: required<HTMLTextAreaElement>('c-text'),
  correctRetract: required<HTMLInputElement>('c-retract'),
  correctNote: required<HTMLTextAreaElement>('c-note'),
  correctButton: required<HTMLButtonElement>('correct-button'),
  correctCancel: required<HTMLButtonElement>('correct-cancel'),
};

const keyErrors = new FormErrors(ui.keyForm, { key: 'key-input' }, required('key-input-error'));
const publishErrors = new FormErrors(
  ui.publishForm,
  { text: 'f-text', 'source.name': 'f-source-name', source: 'f-source-name', 'source.role': 'f-source-role', 'source.org': 'f-source-org', occurredAt: 'f-occurredAt', inReplyTo: 'f-inReplyTo' },
  required('publish-form-error'),
);
const correctErrors = new FormErrors(ui.correctForm, { text: 'c-text', note: 'c-note' }, required('correct-form-error'));
const publishSubmission = new Submission();
const correctSubmission = new Submission();

let publisherKey = sessionStorage.getItem(keyStorageName) ?? '';
let live: LiveConnection | undefined;
const stories = new Map<string, StoryEntry>();
let selected: string | undefined;
/** The selected story's updates by id, corrections folded in; null while its view loads. */
let updates: Map<string, ViewUpdate> | null = null;
/** Live updates of the selected story that arrived while its view was loading. */
let arrivedWhileLoading: Update[] = [];
let correcting: string | undefined;
/** Story changes of the selected story that arrived while its view was loading. */
let storyChangesWhileLoading: StoryChange[] = [];
/** The selected story's pinned update. */
let pinnedId: string | undefined;

ui.keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void checkKey(ui.keyInput.value.trim());
});
ui.forgetKey.addEventListener('click', () => {
  sessionStorage.removeItem(keyStorageName);
  live?.close();
  location.replace(location.pathname);
});

/** Checks a key with `GET /v1/publisher` (401 for an unknown key) before keeping it. */
async function checkKey(candidate: string): Promise<void> {
  if (!candidate) {
    keyErrors.show(new DeskApiError(400, 'validation_failed', 'Paste the publisher key.', [{ path: 'key', message: 'Paste the publisher key.' }]));
    return;
  }
  try {
    await callApi('GET', '/v1/publisher', { key: candidate });
  } catch (error) {
    if (error instanceof DeskApiError && error.status === 401) {
      keyErrors.show(new DeskApiError(401, 'unauthorized', 'This key is not a publisher key of this service.', [{ path: 'key', message: 'This key is not a publisher key of this service.' }]));
      return;
    }
    if (error instanceof DeskApiError && error.network) {
      keyErrors.show(error);
      return;
    }
  }
  publisherKey = candidate;
  sessionStorage.setItem(keyStorageName, candidate);
  ui.keyInput.value = '';
  keyErrors.clear();
  openDesk();
}

function openDesk(): void {
  ui.keyPanel.hidden = true;
  ui.desk.hidden = false;
  ui.forgetKey.hidden = false;
  setBadge(ui.badge, 'connecting');
  live = connect(location.origin, { onStatus: (status) => setBadge(ui.badge, status) });
  void loadStories().then(() => {
    const wanted = decodeURIComponent(location.hash.slice(1));
    if (wanted && stories.has(wanted)) void select(wanted);
  });
  setInterval(() => void loadStories(), storyListRefreshMs);
  followOccurredAtClock();
}

async function loadStories(): Promise<void> {
  try {
    const { body } = await callApi<{ stories: StorySummary[] }>('GET', '/v1/stories');
    for (const summary of body.stories) {
      const entry = stories.get(summary.story);
      if (entry) entry.summary = { ...summary, lastId: newest(entry.summary.lastId, summary.lastId) };
      else stories.set(summary.story, { summary, unread: 0 });
      follow(summary.story);
    }
    renderStoryList();
  } catch {
    // The list refreshes again shortly; the connection badge tells whether the service is reachable.
  }
}

/** Follows a story from the last id the list reported ("0-0": from the start, for a story without updates). */
function follow(story: string): void {
  const entry = stories.get(story);
  if (!entry || entry.follow || !live) return;
  if ([...stories.values()].filter((s) => s.follow).length >= maxFollowed) return;
  entry.follow = live.follow(story, { since: entry.summary.lastId ?? '0-0' }, {
    update: (update) => onLiveUpdate(story, update),
    correction: (correction) => onLiveUpdate(story, correction),
    story: (change) => onStoryChange(story, change),
    reset: (view) => {
      if (story === selected) showView(view);
      else markUnread(story, 1);
    },
  });
}

function onLiveUpdate(story: string, update: Update): void {
  const entry = stories.get(story);
  if (entry) entry.summary = { ...entry.summary, lastId: newest(entry.summary.lastId, update.id), count: entry.summary.count + 1 };
  if (story !== selected) {
    markUnread(story, 1);
    return;
  }
  if (updates === null) {
    arrivedWhileLoading.push(update);
    return;
  }
  fold(update);
  renderFeed();
  scheduleAuditRefresh(story);
}

/** A story change: the list row, and for the selected story its heading, coverage button, flags and pinned post. */
function onStoryChange(story: string, change: StoryChange): void {
  const entry = stories.get(story);
  const { meta } = change;
  if (entry) entry.summary = { ...entry.summary, lastId: newest(entry.summary.lastId, change.id), title: meta.title ?? null, status: meta.status ?? null };
  renderStoryList();
  if (story !== selected) return;
  if (updates === null) {
    storyChangesWhileLoading.push(change);
    return;
  }
  applyStoryChange(change);
  renderFeed();
}

function applyStoryChange(change: StoryChange): void {
  const { meta } = change;
  if (selectedMeta) {
    selectedMeta = { story: selectedMeta.story, ...meta };
    panel.render();
  }
  pinnedId = meta.pinned;
  ui.storyHeading.textContent = meta.title ?? selected ?? '';
  const id = change.flags?.update;
  const target = id === undefined ? undefined : updates?.get(id);
  if (target) updates!.set(target.id, applyFlags(target, change));
}

function markUnread(story: string, count: number): void {
  const entry = stories.get(story);
  if (!entry) return;
  entry.unread += count;
  renderStoryList();
}

/** Adds an update to the selected story, or folds a correction into its target. Repeats change nothing. */
function fold(update: Update): void {
  if (!updates) return;
  if (update.kind === 'correction') {
    const target = update.corrects === undefined ? undefined : updates.get(update.corrects);
    if (target) updates.set(target.id, applyCorrection(target, update));
  } else if (!updates.has(update.id)) {
    updates.set(update.id, update);
  }
}

async function select(story: string): Promise<void> {
  const entry = stories.get(story);
  if (!entry) return;
  selected = story;
  entry.unread = 0;
  updates = null;
  arrivedWhileLoading = [];
  storyChangesWhileLoading = [];
  pinnedId = undefined;
  publishSubmission.reset();
  publishErrors.clear();
  ui.publishOk.textContent = '';
  history.replaceState(null, '', `#${story}`);
  ui.storyHeading.textContent = entry.summary.title ?? story;
  ui.storyLink.href = `/stories/${encodeURIComponent(story)}`;
  ui.storyLink.hidden = false;
  ui.storyWork.hidden = false;
  selectedMeta = undefined;
  selectedEtag = null;
  updateAudit = new Map();
  panel.render();
  ui.coverageError.textContent = '';
  ui.feed.replaceChildren(elementFromHtml('<p class="feed-empty">Loading…</p>'));
  renderStoryList();
  try {
    const { body, etag } = await callApi<StoryView>('GET', `/v1/stories/${encodeURIComponent(story)}`);
    if (selected === story) {
      selectedEtag = etag;
      showView(body);
      void refreshAudit(story);
    }
  } catch (error) {
    if (selected !== story) return;
    if (error instanceof DeskApiError && error.status === 404) showView({ story, lastId: null, updates: [] });
    else ui.feed.replaceChildren(elementFromHtml(`<p class="form-error">${escapeHtml(error instanceof Error ? error.message : 'Could not load the story.')}</p>`));
  }
}

function showView(view: StoryView): void {
  selectedMeta = view;
  panel.render();
  updates = new Map(view.updates.map((u) => [u.id, u]));
  pinnedId = view.pinned;
  for (const update of arrivedWhileLoading) fold(update);
  arrivedWhileLoading = [];
  if (view.title) ui.storyHeading.textContent = view.title;
  // Changes newer than the view only (the view already holds the older ones).
  for (const change of storyChangesWhileLoading) if (view.lastId === null || compareUpdateIds(change.id, view.lastId) > 0) applyStoryChange(change);
  storyChangesWhileLoading = [];
  renderFeed();
}

const actionsHtml = (update: ViewUpdate): string => {
  const id = escapeHtml(update.id);
  return (
    '<span class="update-actions">' +
    `<button type="button" class="small" data-action="correct" data-id="${id}">Correct<span class="visually-hidden"> this update</span></button>` +
    `<button type="button" class="small" data-action="reply" data-id="${id}">Reply<span class="visually-hidden"> to this update</span></button>` +
    (update.withdrawn
      ? ''
      : `<button type="button" class="small toggle" data-action="key" data-id="${id}" aria-pressed="${update.key ? 'true' : 'false'}">Key event<span class="visually-hidden">: this update</span></button>` +
        `<button type="button" class="small toggle" data-action="pin" data-id="${id}" aria-pressed="${update.id === pinnedId ? 'true' : 'false'}">Pin<span class="visually-hidden"> this update first</span></button>`) +
    '</span>' +
    auditLineHtml(updateAudit.get(update.id))
  );
};

function renderFeed(): void {
  if (!updates) return;
  const all = [...updates.values()];
  const { top: newestFirst, replies } = arrangeFeed(all);
  // The pinned update leads, as on the page.
  const pinned = newestFirst.find((u) => u.id === pinnedId && !u.withdrawn);
  const top = pinned ? [pinned, ...newestFirst.filter((u) => u !== pinned)] : newestFirst;
  const focused = document.activeElement instanceof HTMLElement && ui.feed.contains(document.activeElement) ? document.activeElement : null;
  const focusKey = focused ? `[data-action="${focused.dataset.action ?? ''}"][data-id="${focused.dataset.id ?? ''}"]` : null;
  ui.feed.replaceChildren(
    ...(top.length === 0
      ? [elementFromHtml('<p class="feed-empty">No updates yet: publish the first one above.</p>')]
      : top.map((u) => elementFromHtml(updateHtml(u, { repliesOf: (id) => replies.get(id) ?? [], actionsHtml, pinned: pinnedId })))),
  );
  refreshTimes(ui.feed);
  if (focusKey) ui.feed.querySelector<HTMLElement>(focusKey)?.focus();
  renderReplyOptions(all);
}

function renderReplyOptions(all: ViewUpdate[]): void {
  const current = ui.inReplyTo.value;
  const options = all
    .filter((u) => !u.withdrawn)
    .sort((a, b) => compareUpdateIds(b.id, a.id))
    .map((u) => `<option value="${escapeHtml(u.id)}">${escapeHtml(excerpt(u, 90))}</option>`);
  ui.inReplyTo.innerHTML = `<option value="">(choose an update)</option>${options.join('')}`;
  ui.inReplyTo.value = all.some((u) => u.id === current) ? current : '';
}

function renderStoryList(): void {
  const items = [...stories.values()].map(({ summary, unread }) => {
    const story = escapeHtml(summary.story);
    const current = summary.story === selected;
    return (
      `<li><button type="button" class="desk-story" data-story="${story}"${current ? ' aria-current="true"' : ''}>` +
      `<span class="desk-story-title">${escapeHtml(summary.title ?? summary.story)}</span>` +
      `<span class="desk-story-meta">${story}${summary.status ? ` · ${escapeHtml(summary.status)}` : ''}</span>` +
      (unread > 0 ? `<span class="unread">${unread}<span class="visually-hidden"> unread</span></span>` : '') +
      '</button></li>'
    );
  });
  ui.storyList.innerHTML = items.join('') || '<li class="feed-empty">No stories yet: create one below.</li>';
  const unread = [...stories.values()].reduce((sum, s) => sum + s.unread, 0);
  document.title = `${unread > 0 ? `(${unread}) ` : ''}Stoppress · Desk`;
}

ui.storyList.addEventListener('click', (event) => {
  const button = (event.target as Element).closest<HTMLButtonElement>('button[data-story]');
  if (button?.dataset.story) void select(button.dataset.story);
});

ui.feed.addEventListener('click', (event) => {
  const button = (event.target as Element).closest<HTMLButtonElement>('button[data-action]');
  const id = button?.dataset.id;
  if (!button || !id) return;
  if (button.dataset.action === 'key' || button.dataset.action === 'pin') void toggleFlag(button, id);
  else if (button.dataset.action === 'correct') openCorrection(id);
  else if (button.dataset.action === 'reply') {
    ui.publishForm.querySelector<HTMLInputElement>('input[name="kind"][value="reaction"]')!.checked = true;
    syncKind();
    ui.inReplyTo.value = id;
    ui.text.focus();
  }
});

/**
 * Sets or clears an update's key-event or pinned flag (`POST …/updates/:id/flags`). The answer is the story-change
 * entry, applied at once; the same entry arriving live changes nothing more.
 */
async function toggleFlag(button: HTMLButtonElement, id: string): Promise<void> {
  const story = selected;
  if (!story || button.disabled) return;
  const on = button.getAttribute('aria-pressed') !== 'true';
  const body = button.dataset.action === 'key' ? { key: on } : { pinned: on };
  button.disabled = true;
  ui.publishOk.textContent = '';
  try {
    const { body: change } = await callApi<StoryChange>('POST', `/v1/stories/${encodeURIComponent(story)}/updates/${encodeURIComponent(id)}/flags`, { key: publisherKey, body });
    if (selected === story && updates) {
      applyStoryChange(change);
      renderFeed();
    }
    ui.publishOk.textContent = button.dataset.action === 'key' ? (on ? 'Marked as a key event.' : 'No longer a key event.') : on ? 'Pinned first.' : 'Unpinned.';
  } catch (error) {
    ui.publishOk.textContent = '';
    ui.coverageError.textContent = error instanceof Error ? error.message : 'Could not change the flag.';
  } finally {
    button.disabled = false;
  }
}

function syncKind(): void {
  const reaction = kindOf() === 'reaction';
  ui.inReplyTo.disabled = !reaction;
  ui.inReplyTo.closest<HTMLElement>('.field')!.hidden = !reaction;
}
function kindOf(): 'statement' | 'reaction' {
  return ui.publishForm.querySelector<HTMLInputElement>('input[name="kind"]:checked')?.value === 'reaction' ? 'reaction' : 'statement';
}
for (const radio of ui.publishForm.querySelectorAll('input[name="kind"]')) radio.addEventListener('change', syncKind);

/** The occurred-at field shows "now" and follows the clock until the editor changes it. */
function followOccurredAtClock(): void {
  const tick = (): void => {
    if (ui.occurredAt.dataset.auto !== 'off') ui.occurredAt.value = toLocalInputValue(new Date());
  };
  ui.occurredAt.addEventListener('input', () => (ui.occurredAt.dataset.auto = 'off'));
  tick();
  setInterval(tick, 15_000);
}

ui.publishForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void publish();
});

// Ctrl+Enter (Cmd+Enter on a Mac) publishes from anywhere in the form.
ui.publishForm.addEventListener('keydown', (event) => {
  if (event.key !== 'Enter' || !(event.ctrlKey || event.metaKey) || event.isComposing) return;
  event.preventDefault();
  ui.publishForm.requestSubmit();
});

/** The update text's limit (protocol/update.ts `Text`). */
const maxTextChars = 10_000;
const countFormat = new Intl.NumberFormat('en-GB');

/** Characters used out of the limit; the live region speaks only near the limit, not on every keystroke. */
function renderTextCount(): void {
  const used = ui.text.value.length;
  ui.textCount.textContent = `${countFormat.format(used)} / ${countFormat.format(maxTextChars)} characters`;
  const near = used >= maxTextChars * 0.9;
  if (near) ui.textCount.dataset.near = '';
  else delete ui.textCount.dataset.near;
  ui.textCount.setAttribute('aria-live', near ? 'polite' : 'off');
}
ui.text.addEventListener('input', renderTextCount);
ui.publishForm.addEventListener('reset', () => setTimeout(renderTextCount));

async function publish(): Promise<void> {
  const story = selected;
  if (!story || publishSubmission.inFlight) return;
  const field = (name: string): string => (ui.publishForm.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? '';
  const kind = kindOf();
  const [name, role, org] = [field('sourceName'), field('sourceRole'), field('sourceOrg')];
  const occurredAt = ui.occurredAt.dataset.auto === 'off' ? localInputToIso(ui.occurredAt.value) : undefined;
  const body: Record<string, unknown> = {
    kind,
    occurredAt: occurredAt ?? isoWithOffset(new Date()),
    // Sent as typed (even empty): the API's validation is the one that answers, next to the field.
    text: ui.text.value,
    ...(name || role || org ? { source: { name, ...(role ? { role } : {}), ...(org ? { org } : {}) } } : {}),
    ...(ui.keyEvent.checked ? { key: true } : {}),
    ...(kind === 'reaction' && ui.inReplyTo.value ? { inReplyTo: ui.inReplyTo.value } : {}),
  };
  ui.publishButton.disabled = true;
  ui.publishOk.textContent = '';
  publishErrors.clear();
  try {
    const answer = await publishSubmission.run((idempotencyKey) =>
      callApi<Update>('POST', `/v1/stories/${encodeURIComponent(story)}/updates`, { key: publisherKey, body, idempotencyKey }),
    );
    if (!answer) return;
    if (selected === story) {
      fold(answer.body);
      renderFeed();
      scheduleAuditRefresh(story);
    }
    if (answer.status === 200) {
      ui.publishOk.textContent = 'An earlier attempt of this form had already been published; it was not published twice. Your edits, if any, were not sent: publish again to send them.';
      return;
    }
    ui.publishOk.textContent = 'Published.';
    ui.publishForm.reset();
    ui.occurredAt.dataset.auto = 'on';
    ui.occurredAt.value = toLocalInputValue(new Date());
    syncKind();
  } catch (error) {
    showApiError(publishErrors, error);
  } finally {
    ui.publishButton.disabled = false;
  }
}

function openCorrection(id: string): void {
  const target = updates?.get(id);
  if (!target) return;
  correcting = id;
  correctSubmission.reset();
  correctErrors.clear();
  ui.correctTarget.textContent = `Correcting: ${excerpt(target, 160)}`;
  ui.correctText.value = target.text ?? '';
  ui.correctRetract.checked = false;
  ui.correctText.disabled = false;
  ui.correctNote.value = '';
  ui.dialog.showModal();
  ui.correctText.focus();
}

ui.correctRetract.addEventListener('change', () => (ui.correctText.disabled = ui.correctRetract.checked));
ui.correctCancel.addEventListener('click', () => ui.dialog.close());
ui.correctForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void publishCorrection();
});

async function publishCorrection(): Promise<void> {
  const story = selected;
  const corrects = correcting;
  if (!story || !corrects || correctSubmission.inFlight) return;
  const note = ui.correctNote.value;
  const body = ui.correctRetract.checked
    ? { kind: 'correction', corrects, retract: true, note }
    : { kind: 'correction', corrects, text: ui.correctText.value, note };
  ui.correctButton.disabled = true;
  correctErrors.clear();
  try {
    const answer = await correctSubmission.run((idempotencyKey) =>
      callApi<Update>('POST', `/v1/stories/${encodeURIComponent(story)}/updates`, { key: publisherKey, body, idempotencyKey }),
    );
    if (!answer) return;
    if (selected === story) {
      fold(answer.body);
      renderFeed();
      scheduleAuditRefresh(story);
    }
    ui.dialog.close();
    ui.publishOk.textContent = answer.status === 200 ? 'That correction had already been published.' : 'Correction published.';
  } catch (error) {
    showApiError(correctErrors, error);
  } finally {
    ui.correctButton.disabled = false;
  }
}

/** The selected story's metadata as last loaded, and the ETag it was read at (the If-Match of its edits). */
let selectedMeta: StoryMeta | undefined;
let selectedEtag: string | null = null;
/** Who published and corrected each update of the selected story (from its audit trail). */
let updateAudit = new Map<string, UpdateAudit>();
let auditTimer: ReturnType<typeof setTimeout> | undefined;

/** Reloads the selected story's audit trail and redraws the "published by" lines. */
async function refreshAudit(story: string): Promise<void> {
  try {
    const audit = await loadUpdateAudit(story, publisherKey);
    if (selected !== story) return;
    updateAudit = audit;
    renderFeed();
  } catch {
    // The lines stay as they were; the next publish or story change reloads them.
  }
}

/** A write just landed (here or elsewhere): reload the audit once things settle. */
function scheduleAuditRefresh(story: string): void {
  clearTimeout(auditTimer);
  auditTimer = setTimeout(() => void refreshAudit(story), 250);
}

const panel = storyPanel({
  key: () => publisherKey,
  current: () => (selectedMeta ? { meta: selectedMeta, etag: selectedEtag } : undefined),
  changed: (meta, etag) => {
    selectedMeta = meta;
    selectedEtag = etag;
    if (meta.title) ui.storyHeading.textContent = meta.title;
    const entry = stories.get(meta.story);
    if (entry) entry.summary = { ...entry.summary, title: meta.title ?? entry.summary.title, status: meta.status ?? null };
    renderStoryList();
  },
  created: async (meta) => {
    const story = meta.story;
    const status = meta.status === 'ended' ? 'ended' : 'live';
    stories.set(story, { summary: { story, title: meta.title ?? null, status, lastId: null, updatedAt: new Date().toISOString(), count: 0 }, unread: 0 });
    follow(story);
    await select(story);
    ui.text.focus();
  },
  open: (story) => {
    if (!stories.has(story)) stories.set(story, { summary: { story, title: null, status: null, lastId: null, updatedAt: null, count: 0 }, unread: 0 });
    follow(story);
    void select(story);
  },
  showError: (errors, error, fieldForCode) => showApiError(errors, error, fieldForCode),
});

function showApiError(errors: FormErrors, error: unknown, fieldForCode: Record<string, string> = {}): void {
  if (error instanceof DeskApiError) {
    if (error.status === 401) {
      errors.show(new DeskApiError(401, error.code, 'The publisher key was refused. Use "Forget key" and paste a valid one.'));
      return;
    }
    errors.show(error, fieldForCode);
    return;
  }
  errors.show(new DeskApiError(0, 'internal', error instanceof Error ? error.message : 'Something went wrong.'));
}

function newest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return compareUpdateIds(a, b) >= 0 ? a : b;
}

// Start once every listener and helper above exists.
keepTimesCurrent(document);
syncKind();
if (publisherKey) openDesk();
else ui.keyPanel.hidden = false;
