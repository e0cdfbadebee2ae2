// CSRF defence for every POST under the auth prefix, two independent checks that must both pass:
//  1. the request comes from a page the gateway served (Origin, else Sec-Fetch-Site), and
//  2. a signed double-submit token: the form field must be the HMAC of this browser's CSRF cookie, which
//     is __Host- (no sibling host can set it) wherever the browser allows, i.e. on https and localhost.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readCookie } from '../../core/cookies.ts';
import type { SigningKey } from '../../crypto/keys.ts';
import { randomSecret } from '../../crypto/tokens.ts';
import type { HeroRequestState } from '../state.ts';
import { formField } from './respond.ts';
import { cookieAttributes } from './settings.ts';

const CSRF_COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false only on endpoints that are not posted by browsers and authenticate each call themselves. */
    csrf?: boolean;
  }
}

export function requestOrigin(s: HeroRequestState): string {
  return `${s.proto}://${s.host.authority}`;
}

/** The token for this page's forms; sets the browser's CSRF cookie when it has none. */
export function csrfToken(request: FastifyRequest, reply: FastifyReply, key: SigningKey): string {
  const spec = request.hero.snapshot.auth.csrf;
  let value = readCookie(request.headers.cookie, spec.name);
  if (value === null || !CSRF_COOKIE_VALUE.test(value)) {
    value = randomSecret(32);
    reply.setCookie(spec.name, value, cookieAttributes(spec, { sameSite: 'strict' }));
  }
  return key.sign(value);
}

function originAllowed(request: FastifyRequest): boolean {
  const s = request.hero;
  const origin = request.headers.origin;
  // "null" is what sandboxed frames and file: pages send, but also what browsers send for our own forms:
  // the pages' `Referrer-Policy: no-referrer` makes a same-origin form post carry `Origin: null`. So "null"
  // proves nothing either way, and Fetch Metadata decides, as it does when Origin is absent.
  if (typeof origin === 'string' && origin !== 'null') {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    // Only this page's own origin, or public_url's. Not every host the gateway serves: on plain http a
    // sibling host could plant the CSRF cookie, so another served origin must not vouch for a post.
    return url.origin === requestOrigin(s) || url.origin === s.snapshot.publicOrigin;
  }
  // Sec-Fetch-Site is set by the browser itself and cannot be forged by a page; a request with neither
  // header is not a form post from one of our pages.
  return request.headers['sec-fetch-site'] === 'same-origin';
}

/** Null when the POST passes both checks; otherwise the reason, for the log. */
export function csrfProblem(request: FastifyRequest, key: SigningKey): string | null {
  if (!originAllowed(request)) return 'origin';
  const cookie = readCookie(request.headers.cookie, request.hero.snapshot.auth.csrf.name);
  const field = formField(request.body, 'csrf');
  if (cookie === null || field === null) return 'token missing';
  return key.verify(cookie, field) ? null : 'token mismatch';
}
