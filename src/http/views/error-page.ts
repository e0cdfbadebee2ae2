// The content of a failure page: what happened in one sentence, who is signed in when the gateway knows it,
// what the person can do next, and the code for whoever they ask for help. Links only: the pages run no script.
import { html, type SafeHtml } from '../../core/html.ts';
import type { ErrorCode } from '../../errors.ts';

/** Headings and sentences for people; the registry's detail (written for programs) is the fallback. */
const WORDS: Partial<Record<ErrorCode, { heading: string; text: string }>> = {
  bad_request: { heading: 'Request not understood', text: 'The gateway could not understand this request.' },
  bad_path: {
    heading: 'Address not allowed',
    text: 'This address contains encoded slashes, dot segments or control characters, which the gateway refuses.',
  },
  bad_host: { heading: 'Address not valid', text: 'The host name in this address is missing or not valid.' },
  forbidden: {
    heading: 'No access',
    text: 'Your account does not have the permission this page requires.',
  },
  not_found: { heading: 'Page not found', text: 'Nothing is served at this address.' },
  method_not_allowed: { heading: 'Not allowed', text: 'This kind of request is not allowed here.' },
  too_many_requests: { heading: 'Too many requests', text: 'Too many attempts in a short time.' },
  internal: { heading: 'Something went wrong', text: 'Something went wrong on our side.' },
  upstream_unavailable: {
    heading: 'App not reachable',
    text: 'The app behind this address cannot be reached right now.',
  },
  upstream_timeout: {
    heading: 'App did not answer',
    text: 'The app behind this address did not answer in time.',
  },
  store_unavailable: {
    heading: 'Temporarily unavailable',
    text: 'The gateway cannot check sign-ins right now, so it lets nothing through.',
  },
  insecure_transport: {
    heading: 'Signing in needs HTTPS at this address',
    text: 'This browser reached the gateway over plain HTTP, where it cannot keep the sign-in cookies.',
  },
};

export function errorWords(code: ErrorCode, fallback: { title: string; detail: string }) {
  return WORDS[code] ?? { heading: fallback.title, text: fallback.detail };
}

export interface Action {
  href: string;
  label: string;
}

export interface ErrorView {
  code: ErrorCode;
  requestId: string;
  /** The username the gateway admitted this request as, when it got that far. */
  signedInAs: string | null;
  /** A second sentence: when to try again, whom to ask. */
  hint: string | null;
  /** What the person can do, the first one the main button. */
  actions: readonly Action[];
  /** More than a sentence to say (the fixes for insecure_transport). */
  more?: SafeHtml | undefined;
}

export function errorContent(v: ErrorView): SafeHtml {
  const who = v.signedInAs ? html`<p>You are signed in as <strong>${v.signedInAs}</strong>.</p>` : '';
  const hint = v.hint ? html`<p class="hint">${v.hint}</p>` : '';
  const actions = v.actions.length
    ? html`<div class="actions">${v.actions.map((a, i) => html`<a class="${i === 0 ? 'button' : 'button secondary'}" href="${a.href}">${a.label}</a>`)}</div>`
    : '';
  // The code and request id are what an administrator needs to find this answer in the log.
  return html`${who}${v.more ?? ''}${hint}${actions}
<p class="meta" data-code="${v.code}">Code: ${v.code} · request ${v.requestId}</p>`;
}

/** How to reach the sign-in pages where the browser can keep their Secure cookies. */
export function insecureTransportFixes(a: { here: string; publicUrl: string; publicHref: string }): SafeHtml {
  return html`<p>To fix it:</p>
<ul>
<li>Open the gateway over HTTPS: serve TLS directly (<code>[server] tls_cert</code> and <code>tls_key</code>) or put a TLS proxy in front of it.</li>
<li>Or use the gateway's own address: <a href="${a.publicHref}">${a.publicUrl}</a>.</li>
<li>For development only: set <code>public_url = "${a.here}"</code>. Cookies are then sent without the Secure flag, and <code>serve</code> warns about it at start.</li>
</ul>`;
}
