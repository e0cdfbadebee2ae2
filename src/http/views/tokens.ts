// The API tokens part of the account page: your tokens, a form for a new one, and the new one shown once.
import { html, type SafeHtml } from '../../core/html.ts';
import type { ApiToken } from '../../core/records.ts';
import { csrfField, field } from './form.ts';

const day = (ms: number | null) => (ms === null ? 'never' : new Date(ms).toISOString().slice(0, 10));

export const TOKEN_LIFETIMES: Record<string, number | null> = {
  '30d': 30 * 86_400_000,
  '90d': 90 * 86_400_000,
  '365d': 365 * 86_400_000,
  never: null,
};

export function tokensSection(a: {
  prefix: string;
  csrf: string;
  tokens: ApiToken[];
  claims: string[];
  now: number;
  created: { name: string; token: string } | null;
}): SafeHtml {
  const live = a.tokens.filter((t) => t.revokedAt === null && (t.expiresAt === null || t.expiresAt > a.now));
  const created = a.created
    ? html`<div class="alert ok new-token" role="status"><p>Your new token <strong>${a.created.name}</strong>. Copy it now: it is not shown again.</p>
<label for="new-token">Token</label><input id="new-token" type="text" readonly value="${a.created.token}"></div>`
    : '';
  const rows = live.map(
    (
      t,
    ) => html`<tr><td class="what"><strong>${t.name}</strong></td><td data-label="Claims">${t.claims === null ? 'all your claims' : t.claims.join(', ') || 'none'}</td>
<td class="when" data-label="Expires">${day(t.expiresAt)}</td><td class="when" data-label="Last used">${day(t.lastUsedAt)}</td>
<td class="actions-cell"><form method="post" action="${a.prefix}/account/tokens/revoke">${csrfField(a.csrf)}<input type="hidden" name="token" value="${t.id}"><button type="submit" class="secondary">Revoke<span class="visually-hidden"> ${t.name}</span></button></form></td></tr>`,
  );
  return html`<h2 id="tokens-heading">API tokens</h2>
<p class="hint">For scripts: send <code>Authorization: Bearer &lt;token&gt;</code>. A token acts as you, with at most the claims you choose.</p>
${created}
${live.length ? html`<table class="rows" aria-labelledby="tokens-heading"><thead><tr><th scope="col">Name</th><th scope="col">Claims</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead><tbody>${rows}</tbody></table>` : html`<p>No tokens yet.</p>`}
<form method="post" action="${a.prefix}/account/tokens" class="create" aria-labelledby="tokens-heading">
${csrfField(a.csrf)}
<div class="name">${field({ name: 'name', label: 'Name of a new token', type: 'text', autocomplete: 'off', hint: 'Where it is used, like "backup script".' })}</div>
<div class="expires"><label for="f-expires">Expires after</label>
<select id="f-expires" name="expires">${Object.keys(TOKEN_LIFETIMES).map((k) => html`<option value="${k}"${k === '90d' ? html` selected` : ''}>${k === 'never' ? 'never' : k.replace('d', ' days')}</option>`)}</select></div>
${a.claims.length ? html`<fieldset><legend>Limit it to these claims (none ticked: all of yours)</legend>${a.claims.map((c) => html`<label class="check"><input type="checkbox" name="claims" value="${c}"> ${c}</label>`)}</fieldset>` : ''}
<button type="submit">Create token</button>
</form>`;
}
