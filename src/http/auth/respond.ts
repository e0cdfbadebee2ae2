// Answers from the auth endpoints: HTML pages for browsers, problem+json for everyone else, and the headers
// every auth answer carries.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { prefersHtml } from '../../core/accept.ts';
import { html, type SafeHtml } from '../../core/html.ts';
import { ERRORS, type ErrorCode } from '../../errors.ts';
import { sendProblem } from '../problem.ts';
import type { HeroRequestState } from '../state.ts';
import { type Alert, type Branding, page } from '../views/layout.ts';

export function brandingOf(s: HeroRequestState): Branding {
  const b = s.snapshot.config.branding;
  const { stylesheet, icon } = s.snapshot.auth;
  return { title: b.title, logoUrl: b.logo_url, stylesheet, icon };
}

/**
 * Pages hold one-time state (CSRF tokens, sometimes a link token): never cached, never framed, no script,
 * and no Referer that could carry a token to another site.
 */
export function authHeaders(reply: FastifyReply, csp: string): void {
  reply
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('content-security-policy', csp)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('cross-origin-opener-policy', 'same-origin');
}

export function sendPage(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  opts: { heading: string; alert?: Alert | null; wide?: boolean },
  content: SafeHtml,
): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(page(brandingOf(request.hero), opts, content));
}

/** A failure as a page (browsers) or a problem document (scripts), with the same status and code. */
export function sendFailure(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  opts: { heading?: string; text?: string; link?: { href: string; label: string } } = {},
): FastifyReply {
  if (!prefersHtml(request.headers.accept)) return sendProblem(reply, code);
  const e = ERRORS[code];
  return sendPage(
    request,
    reply,
    e.status,
    { heading: opts.heading ?? e.title, alert: { kind: 'error', text: opts.text ?? e.detail } },
    opts.link
      ? html`<div class="actions"><a class="button secondary" href="${opts.link.href}">${opts.link.label}</a></div>`
      : html``,
  );
}

/**
 * A form page, again with an alert when what was sent was refused: browsers see the form with the failure's
 * status, scripts get the problem document with its code.
 */
export function sendForm(
  request: FastifyRequest,
  reply: FastifyReply,
  heading: string,
  failure: { code: ErrorCode; text: string } | null,
  content: () => SafeHtml,
): FastifyReply {
  if (failure && !prefersHtml(request.headers.accept)) return sendProblem(reply, failure.code);
  const status = failure ? ERRORS[failure.code].status : 200;
  return sendPage(
    request,
    reply,
    status,
    { heading, alert: failure ? { kind: 'error', text: failure.text } : null },
    content(),
  );
}

/** A single form field as a string; repeated or missing fields are absent. */
export function formField(body: unknown, name: string): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const v = (body as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : null;
}
