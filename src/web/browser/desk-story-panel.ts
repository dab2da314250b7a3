/**
 * The desk's story panel: create a story (`POST /v1/stories`: never overwrites; an existing id is shown with
 * its metadata and a button to open it), edit it ("Edit story": `PATCH` with `If-Match`, so a change made by
 * someone else meanwhile is refused with 412 instead of being overwritten), and end or reopen its coverage
 * (ending asks for confirmation first).
 */
import type { StoryView } from '../../protocol/update.js';
import { escapeHtml } from '../escape.js';
import { callApi, DeskApiError } from './desk-api.js';
import { required } from './dom.js';
import { FormErrors } from './form-errors.js';

/** The metadata of a story as the desk keeps it. */
export type StoryMeta = Pick<StoryView, 'story' | 'title' | 'summary' | 'status' | 'coverageStartTime' | 'coverageEndTime'>;

export interface StoryPanelContext {
  /** The publisher key. */
  key(): string;
  /** The selected story's metadata and the ETag it was read at, or undefined while none is loaded. */
  current(): { meta: StoryMeta; etag: string | null } | undefined;
  /** Saved here: the desk updates its list and heading. */
  changed(meta: StoryMeta, etag: string | null): void;
  /** Created here: the desk lists and selects it. */
  created(meta: StoryMeta): Promise<void>;
  /** The editor asked to open an existing story (after a 409). */
  open(story: string): void;
  /** Shows an API error in a form (401 and network handling are the desk's). */
  showError(errors: FormErrors, error: unknown, fieldForCode?: Record<string, string>): void;
}

/** What the desk says for a 412: the story changed under the editor. */
export const staleStoryMessage = 'Someone else changed this story since you opened it: reload it (pick it again in the list) and make your change again.';

export function storyPanel(context: StoryPanelContext): { render(): void } {
  const ui = {
    createForm: required<HTMLFormElement>('story-form'),
    newStory: required<HTMLDetailsElement>('new-story'),
    editToggle: required<HTMLButtonElement>('edit-story-toggle'),
    editForm: required<HTMLFormElement>('edit-form'),
    editTitle: required<HTMLInputElement>('e-title'),
    editSummary: required<HTMLTextAreaElement>('e-summary'),
    editCancel: required<HTMLButtonElement>('edit-cancel'),
    coverageToggle: required<HTMLButtonElement>('coverage-toggle'),
    coverageError: required('coverage-error'),
    confirm: required('coverage-confirm'),
    confirmYes: required<HTMLButtonElement>('coverage-confirm-yes'),
    confirmNo: required<HTMLButtonElement>('coverage-confirm-no'),
  };
  const createErrors = new FormErrors(ui.createForm, { story: 'story-id', title: 'story-title', summary: 'story-summary', status: 'story-status' }, required('story-form-error'));
  const editErrors = new FormErrors(ui.editForm, { title: 'e-title', summary: 'e-summary' }, required('edit-form-error'));

  function render(): void {
    const current = context.current();
    ui.coverageToggle.hidden = current === undefined;
    ui.editToggle.hidden = current === undefined;
    ui.coverageToggle.textContent = current?.meta.status === 'ended' ? 'Reopen coverage' : 'End coverage';
    if (!current) {
      ui.editForm.hidden = true;
      ui.confirm.hidden = true;
    }
  }

  ui.createForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void create();
  });
  ui.createForm.addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-open-story]');
    if (button?.dataset.openStory) {
      context.open(button.dataset.openStory);
      ui.newStory.open = false;
    }
  });

  async function create(): Promise<void> {
    const data = new FormData(ui.createForm);
    const story = String(data.get('story') ?? '').trim();
    const summary = String(data.get('summary') ?? '').trim();
    const body = { story, title: String(data.get('title') ?? ''), status: String(data.get('status') ?? 'live'), ...(summary ? { summary } : {}) };
    createErrors.clear();
    let meta: StoryMeta;
    try {
      meta = (await callApi<StoryMeta>('POST', '/v1/stories', { key: context.key(), body })).body;
    } catch (error) {
      if (error instanceof DeskApiError && error.code === 'story_exists') {
        const existing = (error.details.story ?? { story }) as StoryMeta;
        const formError = required('story-form-error');
        formError.innerHTML =
          `A story with the id “${escapeHtml(existing.story)}” already exists: “${escapeHtml(existing.title ?? existing.story)}”` +
          `${existing.status ? ` (${escapeHtml(existing.status)})` : ''}. Nothing was changed. Choose another id, or ` +
          `<button type="button" class="small" data-open-story="${escapeHtml(existing.story)}">open “${escapeHtml(existing.title ?? existing.story)}”</button>`;
        formError.focus?.();
        return;
      }
      context.showError(createErrors, error, { invalid_story_id: 'story' });
      return;
    }
    ui.createForm.reset();
    ui.newStory.open = false;
    await context.created(meta);
  }

  ui.editToggle.addEventListener('click', () => {
    const current = context.current();
    if (!current) return;
    editErrors.clear();
    ui.editTitle.value = current.meta.title ?? '';
    ui.editSummary.value = current.meta.summary ?? '';
    ui.editForm.hidden = false;
    ui.editTitle.focus();
  });
  ui.editCancel.addEventListener('click', () => {
    ui.editForm.hidden = true;
    ui.editToggle.focus();
  });
  ui.editForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const summary = ui.editSummary.value.trim();
    void patch({ title: ui.editTitle.value, summary: summary === '' ? null : summary }, editErrors, () => {
      ui.editForm.hidden = true;
    });
  });

  /** Sends a PATCH with the ETag the story was read at; a 412 says someone else changed it. */
  async function patch(body: Record<string, unknown>, errors: FormErrors | HTMLElement, done: () => void): Promise<boolean> {
    const current = context.current();
    if (!current) return false;
    try {
      const answer = await callApi<StoryMeta>('PATCH', `/v1/stories/${encodeURIComponent(current.meta.story)}`, {
        key: context.key(),
        body,
        ...(current.etag ? { ifMatch: current.etag } : {}),
      });
      // The ETag of the new metadata: read again, so that the next change is checked against this one.
      const fresh = await callApi<StoryView>('GET', `/v1/stories/${encodeURIComponent(current.meta.story)}`).catch(() => undefined);
      context.changed(answer.body, fresh?.etag ?? null);
      done();
      render();
      return true;
    } catch (error) {
      const stale = error instanceof DeskApiError && error.code === 'precondition_failed';
      if (errors instanceof HTMLElement) errors.textContent = stale ? staleStoryMessage : error instanceof Error ? error.message : 'Could not change the story.';
      else if (stale) errors.show(new DeskApiError(412, 'precondition_failed', staleStoryMessage));
      else context.showError(errors, error);
      return false;
    }
  }

  ui.coverageToggle.addEventListener('click', () => {
    const current = context.current();
    if (!current) return;
    ui.coverageError.textContent = '';
    if (current.meta.status === 'ended') {
      void changeCoverage(false);
      return;
    }
    // Ending coverage flips every reader's page to ENDED: ask first.
    ui.confirm.hidden = false;
    ui.confirmNo.focus();
  });
  ui.confirmNo.addEventListener('click', () => {
    ui.confirm.hidden = true;
    ui.coverageToggle.focus();
  });
  ui.confirmYes.addEventListener('click', () => {
    ui.confirm.hidden = true;
    void changeCoverage(true);
  });

  async function changeCoverage(ending: boolean): Promise<void> {
    ui.coverageToggle.disabled = true;
    try {
      await patch(ending ? { status: 'ended', coverageEndTime: new Date().toISOString() } : { status: 'live', coverageEndTime: null }, ui.coverageError, () => undefined);
    } finally {
      ui.coverageToggle.disabled = false;
    }
  }

  return { render };
}
