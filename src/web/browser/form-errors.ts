import type { DeskApiError, FieldIssue } from './desk-api.js';

/**
 * Puts API validation messages next to the fields they concern. `fields` maps an issue path (`text`,
 * `source.name`) to a control id; the control's error element is `#<id>-error` (the desk page renders one per
 * field). Issues without a field go to `formError`.
 */
export class FormErrors {
  readonly #form: HTMLFormElement;
  readonly #fields: Record<string, string>;
  readonly #formError: HTMLElement;

  constructor(form: HTMLFormElement, fields: Record<string, string>, formError: HTMLElement) {
    this.#form = form;
    this.#fields = fields;
    this.#formError = formError;
  }

  clear(): void {
    for (const element of this.#form.querySelectorAll<HTMLElement>('.field-error')) element.textContent = '';
    for (const control of this.#form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
    this.#formError.textContent = '';
  }

  /** Shows the error; focuses the first field concerned (or the form message). */
  show(error: DeskApiError, fieldForCode: Record<string, string> = {}): void {
    this.clear();
    const byField = new Map<string, string[]>();
    const unplaced: string[] = [];
    const issues: FieldIssue[] = error.issues.length > 0 ? error.issues : fieldForCode[error.code] ? [{ path: fieldForCode[error.code]!, message: error.message }] : [];
    for (const issue of issues) {
      const id = this.#fields[issue.path] ?? this.#fields[issue.path.split('.')[0] ?? ''];
      if (id && this.#form.querySelector(`#${id}-error`)) byField.set(id, [...(byField.get(id) ?? []), issue.message]);
      else unplaced.push(issue.path ? `${issue.path}: ${issue.message}` : issue.message);
    }
    let first: HTMLElement | null = null;
    for (const [id, messages] of byField) {
      this.#form.querySelector(`#${id}-error`)!.textContent = messages.join(' ');
      const control = this.#form.querySelector<HTMLElement>(`#${id}`);
      control?.setAttribute('aria-invalid', 'true');
      first ??= control;
    }
    if (byField.size === 0 || unplaced.length > 0) this.#formError.textContent = unplaced.length > 0 ? unplaced.join(' ') : error.message;
    (first ?? this.#formError).focus?.();
  }
}

/** `datetime-local` value ("2022-02-15T10:50") of a time, in the browser's zone. */
export function toLocalInputValue(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** ISO 8601 with the browser's offset ("2022-02-15T10:50:00+03:00") of a `datetime-local` value, or undefined. */
export function localInputToIso(value: string): string | undefined {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : isoWithOffset(date);
}

/** ISO 8601 in local time with its offset: what the API wants for `occurredAt`. */
export function isoWithOffset(date: Date): string {
  const pad = (n: number): string => String(Math.floor(Math.abs(n))).padStart(2, '0');
  const offsetMinutes = -date.getTimezoneOffset();
  const sign = offsetMinutes >= 0 ? '+' : '-';
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(offsetMinutes / 60)}:${pad(offsetMinutes % 60)}`
  );
}
