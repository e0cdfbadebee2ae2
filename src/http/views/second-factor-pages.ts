// The pages of second factors: the step after the password, setting up an authenticator app, recovery codes
// shown once, and the account's sign-in security. Every value is escaped by `html`; every form posts with the
// CSRF token and, apart from the passkey ones (WebAuthn is a browser API), works without JavaScript.
import { html, type SafeHtml } from '../../core/html.ts';
import { csrfField, field } from './form.ts';
import { when } from './pages.ts';
import { qrSvg } from './qr.ts';

const KIND_LABELS = { totp: 'Authenticator app', webauthn: 'Passkey or security key' } as const;

const returnToField = (returnTo: string | undefined) =>
  returnTo ? html`<input type="hidden" name="return_to" value="${returnTo}">` : '';

/** The 6 digits of an authenticator app; a space in the middle, as apps show them, is accepted. */
function codeField(o: { invalid: boolean; autofocus: boolean; label?: string }): SafeHtml {
  return field({
    name: 'code',
    label: o.label ?? 'Code from your authenticator app',
    type: 'text',
    autocomplete: 'one-time-code',
    inputmode: 'numeric',
    pattern: '[0-9]{3} ?[0-9]{3}',
    maxlength: 7,
    hint: 'The 6 digits it shows now.',
    invalid: o.invalid,
    autofocus: o.autofocus,
  });
}

/**
 * A form passkey.js drives: it reads `data-options`, asks the browser for a credential, puts the answer in
 * `credential` and submits. Without script the button (and the name to register under) stays hidden and the
 * no-JS note says why. The status line is left empty rather than `hidden`, so screen readers announce the
 * text the script writes into it.
 */
function passkeyForm(a: {
  mode: 'authenticate' | 'register';
  action: string;
  csrf: string;
  options: string;
  button: string;
  returnTo?: string;
  /** Register: the id prefix of the name field, unique on the page. */
  nameId?: string;
  /** The page's main action: an accent button. */
  primary?: boolean;
  /** A full-width button, like the other forms of a narrow page. */
  stack?: boolean;
}): SafeHtml {
  const name =
    a.mode === 'register'
      ? field({
          name: 'name',
          id: a.nameId ?? 'f-passkey-name',
          label: 'Name of the passkey or key',
          type: 'text',
          autocomplete: 'off',
          value: 'Passkey',
          hint: 'To tell it apart from others, like "Laptop" or "YubiKey".',
        })
      : '';
  return html`<form method="post" action="${a.action}" class="passkey${a.stack ? ' stack' : ''}" data-passkey="${a.mode}" data-options="${a.options}">
${csrfField(a.csrf)}
${returnToField(a.returnTo)}
<input type="hidden" name="credential">
<div data-passkey-needs-js hidden>${name}
<div class="actions"><button type="button" data-passkey-start${a.primary ? '' : html` class="secondary"`}>${a.button}</button></div></div>
<p class="hint" data-passkey-no-js>Passkeys need JavaScript, which is off in this browser.</p>
<p class="passkey-status" data-passkey-status role="status"></p>
</form>`;
}

/** "Sign in with a passkey" under the password form: the passkey alone, no username typed. */
export function passkeySignIn(a: {
  action: string;
  csrf: string;
  options: string;
  returnTo: string;
}): SafeHtml {
  return html`<p class="hint or">or</p>
${passkeyForm({ mode: 'authenticate', action: a.action, csrf: a.csrf, options: a.options, returnTo: a.returnTo, button: 'Sign in with a passkey', stack: true })}`;
}

function cancelForm(a: { action: string; csrf: string; label?: string | undefined }): SafeHtml {
  return html`<form method="post" action="${a.action}" class="cancel">
${csrfField(a.csrf)}
<div class="actions"><button type="submit" class="secondary">${a.label ?? 'Cancel and sign out'}</button></div>
</form>`;
}

const or = html`<p class="hint or">or</p>`;

/** The step after the password: a passkey first when the account has one, then a code, then a recovery code. */
export function mfaChallenge(a: {
  action: string;
  csrf: string;
  returnTo: string;
  username: string;
  /** What the person did before this page: it says so, so the page is never a surprise. */
  after: 'password' | 'link' | 'provider' | 'step-up';
  totp: boolean;
  passkey: { options: string } | null;
  recovery: boolean;
  invalid: 'code' | 'recovery' | null;
  cancel: { action: string };
}): SafeHtml {
  const passkey = a.passkey
    ? passkeyForm({
        mode: 'authenticate',
        action: a.action,
        csrf: a.csrf,
        options: a.passkey.options,
        returnTo: a.returnTo,
        button: 'Use a passkey or security key',
        primary: true,
        stack: true,
      })
    : '';
  const code = a.totp
    ? html`<form method="post" action="${a.action}" class="stack">
${csrfField(a.csrf)}
${returnToField(a.returnTo)}
${codeField({ invalid: a.invalid === 'code', autofocus: a.invalid === 'code' || (!a.passkey && a.invalid === null) })}
<button type="submit">Confirm</button>
</form>`
    : '';
  // Open when it is the only way left, or when a recovery code was just refused.
  const open = a.invalid === 'recovery' || (!a.totp && !a.passkey);
  const recovery = a.recovery
    ? html`<details class="recovery"${open ? html` open` : ''}><summary>Use a recovery code instead</summary>
<form method="post" action="${a.action}" class="stack">
${csrfField(a.csrf)}
${returnToField(a.returnTo)}
${field({ name: 'recovery_code', label: 'Recovery code', type: 'text', autocomplete: 'off', hint: 'One of the codes you saved when you set up this step. Each works once.', invalid: a.invalid === 'recovery', autofocus: a.invalid === 'recovery' })}
<button type="submit" class="secondary">Confirm with a recovery code</button>
</form>
</details>`
    : '';
  const intro = {
    password: html`Your password for <strong>${a.username}</strong> is right. One more step to sign in:`,
    link: html`Your sign-in link for <strong>${a.username}</strong> worked. One more step to sign in:`,
    provider: html`You signed in as <strong>${a.username}</strong>. One more step to finish:`,
    'step-up': html`This app asks for a second step. Confirm it is you, <strong>${a.username}</strong>:`,
  }[a.after];
  return html`<p>${intro}</p>
${passkey}${a.passkey && a.totp ? or : ''}${code}
${recovery}
${cancelForm({ action: a.cancel.action, csrf: a.csrf, label: a.after === 'step-up' ? 'Cancel' : undefined })}`;
}

/** Base32 in groups of 4, as authenticator apps show and accept it. */
const grouped = (secret: string) =>
  secret
    .replace(/\s+/g, '')
    .replace(/(.{4})(?=.)/g, '$1 ')
    .trim();

export function totpEnrolment(a: {
  action: string;
  csrf: string;
  factorId: string;
  secret: string;
  uri: string;
  name: string;
  invalid: boolean;
  returnTo?: string;
  cancelHref: string;
}): SafeHtml {
  return html`<p>An authenticator app on your phone or computer (or your password manager) makes a new 6-digit code every 30 seconds. You type it after your password.</p>
<ol class="steps">
<li><p>Scan this QR code with the app:</p>
${qrSvg(a.uri, 'QR code that adds this account to an authenticator app')}</li>
<li><p>Cannot scan it? Type this key into the app instead:</p>
<p><code class="secret">${grouped(a.secret)}</code></p>
<p class="hint">Or <a href="${a.uri}">open it in an authenticator app on this device</a>.</p></li>
<li><p id="totp-confirm-text">Enter the code the app shows, to check it works.</p>
<form method="post" action="${a.action}" aria-describedby="totp-confirm-text">
${csrfField(a.csrf)}
${returnToField(a.returnTo)}
<input type="hidden" name="factor_id" value="${a.factorId}">
${codeField({ invalid: a.invalid, autofocus: a.invalid })}
${field({ name: 'name', label: 'Name', type: 'text', autocomplete: 'off', value: a.name, hint: 'To tell it apart from others, like "Phone".' })}
<div class="actions"><button type="submit">Turn on</button><a class="button secondary" href="${a.cancelHref}">Cancel</a></div>
</form></li>
</ol>`;
}

export function recoveryCodesShown(a: { codes: string[]; next: { href: string; label: string } }): SafeHtml {
  return html`<p>If you lose your phone or security key, a recovery code signs you in instead. Each code works once.</p>
<p><strong>Store them somewhere safe now</strong>, like your password manager or on paper: they are not shown again. Recovery codes you had before no longer work.</p>
<ol class="recovery-codes" aria-label="Recovery codes">${a.codes.map((c) => html`<li><code>${c}</code></li>`)}</ol>
<div class="actions"><a class="button" href="${a.next.href}">${a.next.label}</a></div>`;
}

type FactorRow = {
  id: string;
  kind: 'totp' | 'webauthn';
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
};

/** One factor: read-only until the person has proved it is them; then rename and (unless it is the last one required) remove. */
function factorRow(f: FactorRow, a: { prefix: string; csrf: string; unlocked: boolean; removable: boolean }) {
  const rename = html`<details class="rename"><summary>Rename<span class="visually-hidden"> ${f.name}</span></summary>
<form method="post" action="${a.prefix}/account/security/rename" aria-label="Rename ${f.name}">
${csrfField(a.csrf)}
<input type="hidden" name="factor_id" value="${f.id}">
${field({ name: 'name', id: `f-name-${f.id}`, label: 'New name', type: 'text', autocomplete: 'off', value: f.name })}
<button type="submit" class="secondary">Save name</button>
</form></details>`;
  const remove = html`<form method="post" action="${a.prefix}/account/security/remove">${csrfField(a.csrf)}<input type="hidden" name="factor_id" value="${f.id}"><button type="submit" class="secondary">Remove<span class="visually-hidden"> ${f.name}</span></button></form>`;
  return html`<tr>
<td class="what"><strong>${f.name}</strong><br><span class="hint">${KIND_LABELS[f.kind]}</span>${a.unlocked ? rename : ''}</td>
<td class="when" data-label="Added">${when(f.createdAt)}</td>
<td class="when" data-label="Last used">${f.lastUsedAt === null ? 'never' : when(f.lastUsedAt)}</td>
<td class="actions-cell">${a.unlocked && a.removable ? remove : ''}</td>
</tr>`;
}

export function securityOverview(a: {
  prefix: string;
  csrf: string;
  factors: FactorRow[];
  recoveryLeft: number;
  unlocked: boolean;
  proof: 'password' | 'code';
  required: boolean;
  passkey: { options: string } | null;
  invalid: boolean;
  /** With the password proof: a hidden username, so password managers know which password to fill. */
  username?: string;
}): SafeHtml {
  const removable = !a.required || a.factors.length > 1;
  const list = a.factors.length
    ? html`<table class="rows" aria-labelledby="factors-heading"><thead><tr><th scope="col">Name</th><th scope="col">Added</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${a.factors.map((f) => factorRow(f, { prefix: a.prefix, csrf: a.csrf, unlocked: a.unlocked, removable }))}</tbody></table>`
    : html`<p>None yet: you sign in with your password alone.</p>`;
  const requiredNote = a.required
    ? html`<p class="meta">This gateway requires a second step, so your account keeps at least one: add another before you remove the last.</p>`
    : '';
  const recovery =
    a.factors.length || a.recoveryLeft
      ? html`<h2 id="recovery-heading">Recovery codes</h2>
<p>${a.recoveryLeft} of 10 left. Each signs you in once when you cannot use your app or key.</p>
${
  a.unlocked
    ? html`<form method="post" action="${a.prefix}/account/security/recovery" aria-labelledby="recovery-heading">
${csrfField(a.csrf)}
<div class="actions"><button type="submit" class="secondary">Make new recovery codes</button></div>
<p class="hint">The codes you have now stop working.</p>
</form>`
    : ''
}`
      : '';
  const changes = a.unlocked
    ? html`<h2 id="add-heading">Add a second step</h2>
<form method="post" action="${a.prefix}/account/security/totp" aria-labelledby="add-heading">
${csrfField(a.csrf)}
<div class="actions"><button type="submit" class="secondary">Add an authenticator app</button></div>
</form>
${
  a.passkey
    ? passkeyForm({
        mode: 'register',
        action: `${a.prefix}/account/security/passkey`,
        csrf: a.csrf,
        options: a.passkey.options,
        button: 'Add a passkey or security key',
      })
    : ''
}`
    : html`<h2 id="confirm-heading">Confirm it's you to make changes</h2>
<form method="post" action="${a.prefix}/account/security/confirm" class="stack" aria-labelledby="confirm-heading"${a.proof === 'password' ? html` novalidate` : ''}>
${csrfField(a.csrf)}
${
  a.proof === 'password'
    ? html`${a.username ? html`<input type="text" name="username" value="${a.username}" autocomplete="username" hidden>` : ''}
${field({ name: 'password', label: 'Your password', type: 'password', autocomplete: 'current-password', invalid: a.invalid, autofocus: a.invalid })}`
    : codeField({ invalid: a.invalid, autofocus: a.invalid })
}
<button type="submit">Confirm</button>
</form>`;
  return html`<p>A second step after your password keeps your account yours even if the password leaks.</p>
<h2 id="factors-heading">Your second steps</h2>
${list}
${requiredNote}
${changes}
${recovery}
<p class="meta"><a href="${a.prefix}/account">Back to your account</a></p>`;
}

/** After the password, when the gateway requires a second factor and the account has none yet. */
export function enrolmentRequired(a: {
  prefix: string;
  csrf: string;
  totpAction: string;
  passkey: { action: string; options: string } | null;
  cancel: { action: string };
}): SafeHtml {
  return html`<p>This gateway asks for a second step after your password, and your account has none yet. Set one up to continue.</p>
<form method="post" action="${a.totpAction}" class="stack">
${csrfField(a.csrf)}
<button type="submit">Set up an authenticator app</button>
</form>
${
  a.passkey
    ? html`${or}${passkeyForm({
        mode: 'register',
        action: a.passkey.action,
        csrf: a.csrf,
        options: a.passkey.options,
        button: 'Set up a passkey or security key',
        stack: true,
      })}`
    : ''
}
${cancelForm({ action: a.cancel.action, csrf: a.csrf })}`;
}
