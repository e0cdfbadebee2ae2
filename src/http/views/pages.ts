// The content of each auth page. Every value is escaped by `html`; forms carry the CSRF token and work
// without JavaScript.

import { html, type SafeHtml } from '../../core/html.ts';
import type { Session, User } from '../../core/records.ts';
import { csrfField, field } from './form.ts';

/** Places later sign-in methods (magic link, identity providers) fill in under the password form. */
export interface LoginAlternatives {
  /** Other ways to sign in, as buttons (a mailed link; identity providers); `note` marks one that cannot be used now. */
  buttons: { href: string; label: string; note?: string }[];
  /** Small links under the form (forgot password, create an account). */
  links: { href: string; label: string }[];
}

/** A way to sign in as a button; one that cannot be used now is shown, greyed, with the reason. */
function alternative(l: { href: string; label: string; note?: string }): SafeHtml {
  if (l.note) return html`<span class="button secondary" aria-disabled="true">${l.label} (${l.note})</span>`;
  return html`<a class="button secondary" href="${l.href}">${l.label}</a>`;
}

export function loginForm(a: {
  action: string;
  csrf: string;
  returnTo: string;
  /** What was typed as the username, shown again after a refused attempt (never the password). */
  username: string;
  invalid: boolean;
  /** False where the app asked for needs an identity provider: only its buttons are offered. */
  password: boolean;
  alternatives: LoginAlternatives;
  /** "Sign in with a passkey", where this page's origin can use them. */
  passkey?: SafeHtml;
}): SafeHtml {
  const form = a.password
    ? html`<form method="post" action="${a.action}" class="stack" novalidate>
${csrfField(a.csrf)}
<input type="hidden" name="return_to" value="${a.returnTo}">
${field({ name: 'username', label: 'Username or email', type: 'text', autocomplete: 'username', value: a.username, autofocus: a.username === '', invalid: a.invalid })}
${field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password', autofocus: a.username !== '', invalid: a.invalid })}
<button type="submit">Sign in</button>
</form>`
    : html`<p>This app asks you to sign in with one of these accounts.</p>`;
  return html`${form}${a.password && a.passkey ? a.passkey : ''}
<div class="alternatives">${a.alternatives.buttons.map(alternative)}</div>
${a.alternatives.links.length ? html`<p class="meta">${a.alternatives.links.map((l, i) => html`${i ? ' · ' : ''}<a href="${l.href}">${l.label}</a>`)}</p>` : ''}`;
}

export function logoutConfirm(a: {
  action: string;
  csrf: string;
  username: string | null;
  prefix: string;
}): SafeHtml {
  if (!a.username)
    return html`<p>You are not signed in.</p>
<div class="actions"><a class="button" href="${a.prefix}/login">Sign in</a></div>`;
  return html`<p>You are signed in as <strong>${a.username}</strong>. Sign out on this device?</p>
<form method="post" action="${a.action}">
${csrfField(a.csrf)}
<div class="actions"><button type="submit">Sign out</button><a class="button secondary" href="${a.prefix}/account">Cancel</a></div>
</form>`;
}

export function signedOut(a: { loginHref: string }): SafeHtml {
  return html`<p>Your session has ended on this device.</p>
<div class="actions"><a class="button" href="${a.loginHref}">Sign in again</a></div>`;
}

export const when = (ms: number) => `${new Date(ms).toISOString().replace('T', ' ').slice(0, 16)} UTC`;

/** "Firefox on Linux" from a User-Agent string; the raw string is kept for the tooltip. */
export function browserName(ua: string | null): string {
  if (!ua) return 'Unknown browser';
  const browser =
    [
      ['Edg/', 'Edge'],
      ['OPR/', 'Opera'],
      ['Firefox/', 'Firefox'],
      ['Chrome/', 'Chrome'],
      ['Chromium/', 'Chromium'],
      ['Safari/', 'Safari'],
      ['curl/', 'curl'],
    ].find(([mark]) => ua.includes(mark as string))?.[1] ?? null;
  const os =
    [
      ['Android', 'Android'],
      ['iPhone', 'iOS'],
      ['iPad', 'iPadOS'],
      ['Windows', 'Windows'],
      ['Mac OS X', 'macOS'],
      ['CrOS', 'ChromeOS'],
      ['Linux', 'Linux'],
    ].find(([mark]) => ua.includes(mark as string))?.[1] ?? null;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? (ua.length > 40 ? `${ua.slice(0, 40)}…` : ua);
}

const METHOD_LABELS: Record<string, string> = { password: 'password', magic_link: 'email link' };

/** How a session began, in words: an identity provider by its display name (its id when no longer configured). */
function methodLabel(m: string, providerNames: ReadonlyMap<string, string>): string {
  if (m.startsWith('oidc:')) return providerNames.get(m.slice(5)) ?? m.slice(5);
  return METHOD_LABELS[m] ?? m;
}

export function account(a: {
  prefix: string;
  csrf: string;
  user: User;
  current: string;
  sessions: Session[];
  minLength: number;
  passwordInvalid: boolean;
  /** False for an account created by an identity provider: there is no password to change. */
  hasPassword: boolean;
  /** Names of the identity providers linked to the account. */
  providers: readonly string[];
  /** Display names of the configured identity providers, by id. */
  providerNames: ReadonlyMap<string, string>;
  /** More sections (API tokens). */
  extra: SafeHtml;
}): SafeHtml {
  const rows = a.sessions.map(
    (s) => html`<tr>
<td class="what"><span title="${s.userAgent ?? ''}">${browserName(s.userAgent)}</span>${s.id === a.current ? html` <strong>(this one)</strong>` : ''}<br><span class="hint">${s.ip ?? ''}</span></td>
<td class="when" data-label="Signed in">${when(s.createdAt)}<br><span class="hint">by ${methodLabel(s.authMethod, a.providerNames)}</span></td>
<td class="when" data-label="Last active">${when(s.lastSeenAt)}</td>
<td class="actions-cell">${
      s.id === a.current
        ? ''
        : html`<form method="post" action="${a.prefix}/account/sessions/end">${csrfField(a.csrf)}<input type="hidden" name="session" value="${s.id}"><button type="submit" class="secondary">End<span class="visually-hidden"> session from ${when(s.createdAt)}</span></button></form>`
    }</td>
</tr>`,
  );
  const via = a.providers.join(', ');
  const password = a.hasPassword
    ? html`<h2 id="password-heading">Change password</h2>
<form method="post" action="${a.prefix}/account/password" aria-labelledby="password-heading" novalidate>
${csrfField(a.csrf)}
${field({ name: 'current_password', label: 'Current password', type: 'password', autocomplete: 'current-password', invalid: a.passwordInvalid })}
${field({ name: 'new_password', label: 'New password', type: 'password', autocomplete: 'new-password', hint: `At least ${a.minLength} characters. Your other sessions will be signed out.`, invalid: a.passwordInvalid })}
${field({ name: 'confirm_password', label: 'Repeat the new password', type: 'password', autocomplete: 'new-password', invalid: a.passwordInvalid })}
<button type="submit">Change password</button>
</form>`
    : html`<p class="meta">This account has no password${via ? html`: you sign in with ${via}` : ''}. To set one, use <a href="${a.prefix}/forgot">Forgot your password?</a></p>`;
  return html`<p>Signed in as <strong>${a.user.username}</strong> (${a.user.email}).</p>
${a.hasPassword && via ? html`<p class="meta">You can also sign in with ${via}.</p>` : ''}
${password}
<h2 id="security-heading">Sign-in security</h2>
<p>A second step after your password: an authenticator app, a passkey or a security key, and recovery codes. <a href="${a.prefix}/account/security">Manage sign-in security</a></p>
<h2 id="sessions-heading">Sessions</h2>
<table class="rows" aria-labelledby="sessions-heading">
<thead><tr><th scope="col">Browser and address</th><th scope="col">Signed in</th><th scope="col">Last active</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${rows}</tbody>
</table>
${
  a.sessions.length > 1
    ? html`<form method="post" action="${a.prefix}/account/sessions/end">${csrfField(a.csrf)}<input type="hidden" name="session" value="others"><div class="actions"><button type="submit" class="secondary">End all other sessions</button></div></form>`
    : ''
}
${a.extra}
<p class="meta">Done here? <a href="${a.prefix}/logout">Sign out of this device</a>.</p>`;
}

export function setupForm(a: {
  action: string;
  csrf: string;
  token: string;
  username: string;
  email: string;
  minLength: number;
  invalid: boolean;
}): SafeHtml {
  return html`<p>No account exists yet. Create the first administrator.</p>
<form method="post" action="${a.action}" class="stack" novalidate>
${csrfField(a.csrf)}
<input type="hidden" name="token" value="${a.token}">
${field({ name: 'username', label: 'Username', type: 'text', autocomplete: 'username', value: a.username, hint: 'Lower-case letters, digits, ".", "_" or "-". It cannot be changed later.', autofocus: true })}
${field({ name: 'email', label: 'Email', type: 'email', autocomplete: 'email', value: a.email })}
${field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', hint: `At least ${a.minLength} characters.`, invalid: a.invalid })}
${field({ name: 'confirm_password', label: 'Repeat the password', type: 'password', autocomplete: 'new-password', invalid: a.invalid })}
<button type="submit">Create administrator</button>
</form>`;
}
