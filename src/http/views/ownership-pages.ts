// The pages of an address proven by someone who may not have set the account's password: the choice on the
// confirmation page (type the password, or take the account over), and choosing a password afterwards.
import { html, type SafeHtml } from '../../core/html.ts';
import { csrfField, field } from './form.ts';

/**
 * Confirming an address from a browser that neither chose nor proved the account's password: two forms, so
 * each works without script and each button says exactly what it does.
 */
export function ownershipChoice(a: {
  action: string;
  csrf: string;
  token: string;
  username: string;
  invalid: boolean;
}): SafeHtml {
  return html`<p>The account <strong>${a.username}</strong> was created with this address and a password.</p>
<h2 id="keep-heading">Did you create it?</h2>
<form method="post" action="${a.action}" class="stack" aria-labelledby="keep-heading" novalidate>
${csrfField(a.csrf)}
<input type="hidden" name="token" value="${a.token}">
<input type="text" name="username" value="${a.username}" autocomplete="username" hidden>
${field({ name: 'password', label: 'Its password', type: 'password', autocomplete: 'current-password', hint: 'Enter the password you chose to confirm the address and sign in.', invalid: a.invalid, autofocus: true })}
<button type="submit" name="intent" value="password">Confirm with my password</button>
</form>
<h2 id="takeover-heading">Not you?</h2>
<p id="takeover-text">If you did not create it, or do not know its password, the account becomes yours: its password, its sign-ins through identity providers, its sessions and its API tokens are removed, and you choose a new password.</p>
<form method="post" action="${a.action}" aria-labelledby="takeover-heading" aria-describedby="takeover-text">
${csrfField(a.csrf)}
<input type="hidden" name="token" value="${a.token}">
<div class="actions"><button type="submit" name="intent" value="takeover" class="secondary">I did not set a password here / I don't know it</button></div>
</form>`;
}

/** A first password for an account that has none, right after a mailed link signed the browser in. */
export function firstPasswordForm(a: {
  action: string;
  csrf: string;
  username: string;
  returnTo: string;
  skipHref: string;
  minLength: number;
  invalid: boolean;
}): SafeHtml {
  return html`<p>Your account <strong>${a.username}</strong> has no password now. Choose one to sign in with it, or keep signing in with links we mail you.</p>
<form method="post" action="${a.action}" class="stack" novalidate>
${csrfField(a.csrf)}
${a.returnTo ? html`<input type="hidden" name="return_to" value="${a.returnTo}">` : ''}
<input type="text" name="username" value="${a.username}" autocomplete="username" hidden>
${field({ name: 'new_password', label: 'New password', type: 'password', autocomplete: 'new-password', hint: `At least ${a.minLength} characters.`, invalid: a.invalid, autofocus: true })}
${field({ name: 'confirm_password', label: 'Repeat the new password', type: 'password', autocomplete: 'new-password', invalid: a.invalid })}
<button type="submit">Set my password</button>
</form>
<p class="meta"><a href="${a.skipHref}">Not now</a></p>`;
}
