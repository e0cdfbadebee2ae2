// Form parts shared by the pages: the CSRF field, and labelled inputs wired for screen readers.
import { html, type SafeHtml } from '../../core/html.ts';

export const csrfField = (token: string) => html`<input type="hidden" name="csrf" value="${token}">`;

/** A field with its label, hint and error wired up for screen readers. */
export function field(opts: {
  name: string;
  label: string;
  type: 'text' | 'email' | 'password';
  autocomplete: string;
  value?: string;
  hint?: string;
  invalid?: boolean;
  autofocus?: boolean;
  /** Defaults to `f-<name>`; give one when a page holds the same field in several forms. */
  id?: string;
  /** For codes: the keyboard to show, the format the browser checks before sending, and a length cap. */
  inputmode?: 'numeric';
  pattern?: string;
  maxlength?: number;
}): SafeHtml {
  const id = opts.id ?? `f-${opts.name}`;
  const described = [opts.hint ? `${id}-hint` : '', opts.invalid ? 'page-alert' : '']
    .filter(Boolean)
    .join(' ');
  return html`<label for="${id}">${opts.label}</label>
<input id="${id}" name="${opts.name}" type="${opts.type}" autocomplete="${opts.autocomplete}" required${
    opts.value ? html` value="${opts.value}"` : ''
  }${opts.autofocus ? html` autofocus` : ''}${opts.invalid ? html` aria-invalid="true"` : ''}${
    described ? html` aria-describedby="${described}"` : ''
  }${opts.inputmode ? html` inputmode="${opts.inputmode}"` : ''}${opts.pattern ? html` pattern="${opts.pattern}"` : ''}${
    opts.maxlength ? html` maxlength="${opts.maxlength}"` : ''
  }>
${opts.hint ? html`<p class="hint" id="${id}-hint">${opts.hint}</p>` : ''}`;
}
