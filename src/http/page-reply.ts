// What every HTML page the gateway serves carries, on its own paths and on an app's host alike: the branding
// from the config snapshot and the headers that keep a page with one-time state safe.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SafeHtml } from '../core/html.ts';
import type { Snapshot } from './snapshot.ts';
import { type Alert, type Branding, page } from './views/layout.ts';

export function brandingOf(snapshot: Snapshot): Branding {
  const b = snapshot.config.branding;
  const { stylesheet, icon } = snapshot.auth;
  return { title: b.title, logoUrl: b.logo_url, stylesheet, icon, script: snapshot.auth.passkeyScript };
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

export interface PageOptions {
  heading: string;
  alert?: Alert | null;
  wide?: boolean;
  /** The page offers passkeys: it loads the gateway's passkey script, and its CSP allows that one script. */
  passkeys?: boolean;
}

/** A page in the snapshot's branding; the caller has set the page headers (auth paths do so for every answer). */
export function sendBrandedPage(
  reply: FastifyReply,
  snapshot: Snapshot,
  status: number,
  opts: PageOptions,
  content: SafeHtml,
): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(page(brandingOf(snapshot), opts, content));
}

export function sendPage(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  opts: PageOptions,
  content: SafeHtml,
): FastifyReply {
  const s = request.hero;
  if (opts.passkeys)
    reply.header(
      'content-security-policy',
      s.snapshot.auth.cspWithScript(`${s.proto}://${s.host.authority}`),
    );
  return sendBrandedPage(reply, request.hero.snapshot, status, opts, content);
}
