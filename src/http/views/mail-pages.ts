// The content of the pages reached by mail or leading to one: register, forgot, reset, magic link, invite,
// confirm. Link tokens travel in hidden fields of POST forms, never in a URL the page links to.
import { html, type SafeHtml } from '../../core/html.ts';
import { csrfField, field } from './form.ts';

export function registerForm(a: {
  action: string;
  csrf: string;
  returnTo: string;
  username: string;
  email: string;
  minLength: number;
  invalid: boolean;
  loginHref: string;
}): SafeHtml {
  return html`<form method="post" action="${a.action}" class="stack" novalidate>
${csrfField(a.csrf)}
${a.returnTo ? html`<input type="hidden" name="return_to" value="${a.returnTo}">` : ''}
${field({ name: 'username', label: 'Username', type: 'text', autocomplete: 'username', value: a.username, hint: 'Letters, digits, ".", "_" or "-", kept in lower case. It cannot be changed later.', autofocus: true })}
${field({ name: 'email', label: 'Email', type: 'email', autocomplete: 'email', value: a.email, hint: 'We send a link to confirm it.' })}
${field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', hint: `At least ${a.minLength} characters.`, invalid: a.invalid })}
${field({ name: 'confirm_password', label: 'Repeat the password', type: 'password', autocomplete: 'new-password', invalid: a.invalid })}
<button type="submit">Create account</button>
</form>
<p class="meta">Already have an account? <a href="${a.loginHref}">Sign in</a>.</p>`;
}

/** One field (an address or a name) and a button: forgot-password and magic-link requests. */
export function requestForm(a: {
  action: string;
  csrf: string;
  intro: string;
  label: string;
  type: 'text' | 'email';
  autocomplete: string;
  button: string;
  returnTo?: string;
  invalid: boolean;
  loginHref: string;
}): SafeHtml {
  return html`<p>${a.intro}</p>
<form method="post" action="${a.action}" class="stack" novalidate>
${csrfField(a.csrf)}
${a.returnTo ? html`<input type="hidden" name="return_to" value="${a.returnTo}">` : ''}
${field({ name: 'identifier', label: a.label, type: a.type, autocomplete: a.autocomplete, autofocus: true, invalid: a.invalid })}
<button type="submit">${a.button}</button>
</form>
<p class="meta"><a href="${a.loginHref}">Back to sign-in</a></p>`;
}

/** A new password for the account a reset or invite link belongs to. */
export function newPasswordForm(a: {
  action: string;
  csrf: string;
  token: string;
  username: string;
  intro: string;
  button: string;
  minLength: number;
  invalid: boolean;
}): SafeHtml {
  return html`<p>${a.intro}</p>
<form method="post" action="${a.action}" class="stack" novalidate>
${csrfField(a.csrf)}
<input type="hidden" name="token" value="${a.token}">
<input type="text" name="username" value="${a.username}" autocomplete="username" hidden>
${field({ name: 'password', label: 'New password', type: 'password', autocomplete: 'new-password', hint: `At least ${a.minLength} characters.`, invalid: a.invalid, autofocus: true })}
${field({ name: 'confirm_password', label: 'Repeat the new password', type: 'password', autocomplete: 'new-password', invalid: a.invalid })}
<button type="submit">${a.button}</button>
</form>`;
}

/** The page a mailed link opens: one button that does what the link is for. Opening it changes nothing. */
export function confirmLink(a: {
  action: string;
  csrf: string;
  token: string;
  text: SafeHtml;
  button: string;
  back?: { href: string; label: string };
}): SafeHtml {
  return html`<p>${a.text}</p>
<form method="post" action="${a.action}">
${csrfField(a.csrf)}
<input type="hidden" name="token" value="${a.token}">
<div class="actions"><button type="submit">${a.button}</button></div>
</form>
${a.back ? html`<p class="meta"><a href="${a.back.href}">${a.back.label}</a></p>` : ''}`;
}

export function notice(a: { text: string; link?: { href: string; label: string } | undefined }): SafeHtml {
  return html`<p>${a.text}</p>${a.link ? html`<div class="actions"><a class="button secondary" href="${a.link.href}">${a.link.label}</a></div>` : ''}`;
}
