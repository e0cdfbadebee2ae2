// Every failure on the public listener goes through here: people in a browser get a branded page, programs
// get problem+json — the same status and the same `code` either way. `sendProblem` (problem.ts) and the auth
// pages' `sendFailure` both land here, so no caller has to remember to negotiate.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { prefersHtml } from '../core/accept.ts';
import type { SafeHtml } from '../core/html.ts';
import { ERRORS, type ErrorCode } from '../errors.ts';
import { authHeaders, sendBrandedPage } from './page-reply.ts';
import { sendProblemJson } from './problem-json.ts';
import type { Snapshot } from './snapshot.ts';
import { type Action, errorContent, errorWords } from './views/error-page.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set by `servePeople` on the scopes browsers navigate to: their failures may be pages. */
    pages?: boolean;
  }
}

/**
 * Marks every route registered after it in this plugin scope as one people reach with a browser. Scopes that
 * answer only programs (the admin listener, forward-auth) never call it, and so never answer with HTML.
 */
export function servePeople(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, pages: true };
  });
}

export interface FailureOptions {
  heading?: string;
  /** What happened, in one sentence. */
  text?: string;
  /** The one thing to do next, instead of the defaults for the code. */
  link?: Action;
  /** Members appended to the problem document (login_url, …); never shown on the page. */
  extra?: Record<string, unknown>;
  /** More to say than a sentence, above the actions. */
  more?: SafeHtml;
  /** The config snapshot, for a request refused before `request.hero` was set (its target was refused). */
  snapshot?: Snapshot;
}

/** The snapshot to brand a page with, or null when this answer is for a program. */
function pageSnapshot(request: FastifyRequest, code: ErrorCode, opts: FailureOptions): Snapshot | null {
  const s = request.hero as typeof request.hero | null | undefined;
  // No snapshot: the admin listener, whose requests never pass the target check.
  const snapshot = s?.snapshot ?? opts.snapshot;
  if (!snapshot) return null;
  if (!request.is404 && request.routeOptions.config.pages !== true) return null;
  // `api = true` routes promise their clients JSON, whatever a browser asks for.
  if (s?.route?.api) return null;
  // "Sign in first": browsers that can sign in were redirected already; the rest are asked for a token
  // (WWW-Authenticate), which a page cannot give them.
  if (code === 'auth_required') return null;
  return snapshot;
}

export function sendFailure(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  opts: FailureOptions = {},
): FastifyReply {
  const snapshot = pageSnapshot(request, code, opts);
  if (snapshot === null) return sendProblemJson(reply, code, opts.extra);
  // One URL, two representations: a cache between here and the client must not hand one to the other.
  reply.header('vary', 'accept');
  if (!prefersHtml(request.headers.accept)) return sendProblemJson(reply, code, opts.extra);
  const e = ERRORS[code];
  const words = errorWords(code, e);
  // The auth pages' headers, also on an app's host: this page is the gateway's, not the app's.
  authHeaders(reply, snapshot.auth.csp);
  // It may name the signed-in user: no other site may embed or read it, even where a browser would allow it.
  reply.header('cross-origin-resource-policy', 'same-origin');
  const content = errorContent({
    code,
    requestId: request.id,
    // Only what the gate already learned: a refused garbage request costs no store lookup.
    signedInAs: request.hero?.principal?.user.username ?? null,
    hint: hintFor(request, reply, code, opts),
    actions: opts.link ? [opts.link] : actionsFor(request, snapshot, e.status, code),
    more: opts.more,
  });
  return sendBrandedPage(
    reply,
    snapshot,
    e.status,
    { heading: opts.heading ?? words.heading, alert: { kind: 'error', text: opts.text ?? words.text } },
    content,
  );
}

/** The same address again, as a path on this host (normalized; refused targets have none). */
function sameAddress(request: FastifyRequest): string | null {
  const s = request.hero as typeof request.hero | null | undefined;
  return s ? `${s.forward}${s.query}` : null;
}

function hintFor(request: FastifyRequest, reply: FastifyReply, code: ErrorCode, opts: FailureOptions) {
  if (code === 'forbidden' && request.hero?.principal)
    return 'Ask an administrator for access, or sign in with an account that has it.';
  const retry = Number(reply.getHeader('retry-after'));
  if (!Number.isInteger(retry) || retry <= 0) return null;
  const wait = `${retry} ${retry === 1 ? 'second' : 'seconds'}`;
  // A page whose sentence already names this wait says it once.
  return opts.text?.includes(wait) ? null : `Try again in ${wait}.`;
}

function actionsFor(request: FastifyRequest, snapshot: Snapshot, status: number, code: ErrorCode): Action[] {
  const home = { href: '/', label: 'Go to the start page' };
  const again = sameAddress(request);
  if (code === 'forbidden' && request.hero?.principal)
    // Signing out is a POST with a CSRF token, which this page (perhaps on an app's host) cannot mint: the
    // sign-out page asks, then offers to sign in again.
    return [{ href: `${snapshot.config.server.auth_prefix}/logout`, label: 'Sign in as someone else' }, home];
  if ((status === 429 || status >= 500) && again !== null) return [{ href: again, label: 'Try again' }, home];
  return [home];
}
