// The new API token between "create" and the page that shows it: the POST answers 303 (a reload then repeats
// only the GET, never the creation) and hands the token to that GET in a short-lived, sealed, host-only cookie
// that the GET reads and clears at once. So the plaintext token is never in a URL, a log line or a cached answer.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readCookie } from '../../core/cookies.ts';
import type { Sealer } from '../../crypto/sealed.ts';
import type { ActiveSession } from '../../services/sessions.ts';
import { cookieAttributes } from '../auth/csrf.ts';
import type { CookieSpec } from '../auth/settings.ts';

/** Long enough for a slow redirect, short enough that a forgotten one is gone soon. */
const MAX_AGE_S = 120;

interface Flash {
  /** The session that created it: another user (or session) in the same browser never sees it. */
  session: string;
  name: string;
  token: string;
  expiresAt: number;
}

/**
 * The CSRF cookie's attributes under another name in the same `hero_` namespace: host-only, Secure wherever
 * the browser allows, `__Host-` where possible (auth/settings.ts decides those for the CSRF cookie).
 */
function flashSpec(request: FastifyRequest): CookieSpec {
  const csrf = request.hero.snapshot.auth.csrf;
  return { ...csrf, name: csrf.name.replace('hero_csrf', 'hero_token_flash') };
}

export function setTokenFlash(
  reply: FastifyReply,
  sealer: Sealer,
  active: ActiveSession,
  created: { name: string; token: string },
  now: number,
): void {
  const spec = flashSpec(reply.request);
  const flash: Flash = { session: active.session.id, ...created, expiresAt: now + MAX_AGE_S * 1000 };
  // Strict: only our own 303 brings it back, never a request started by another site.
  reply.setCookie(
    spec.name,
    sealer.seal(flash),
    cookieAttributes(spec, { sameSite: 'strict', maxAge: MAX_AGE_S }),
  );
}

/** The token created by this session, once: the cookie is cleared whatever it held. */
export function takeTokenFlash(
  request: FastifyRequest,
  reply: FastifyReply,
  sealer: Sealer,
  active: ActiveSession,
  now: number,
): { name: string; token: string } | null {
  const spec = flashSpec(request);
  const value = readCookie(request.headers.cookie, spec.name);
  if (value === null) return null;
  reply.setCookie(spec.name, '', cookieAttributes(spec, { sameSite: 'strict', maxAge: 0 }));
  const flash = sealer.open(value) as Partial<Flash> | null;
  if (
    !flash ||
    flash.session !== active.session.id ||
    typeof flash.expiresAt !== 'number' ||
    flash.expiresAt <= now ||
    typeof flash.name !== 'string' ||
    typeof flash.token !== 'string'
  )
    return null;
  return { name: flash.name, token: flash.token };
}
